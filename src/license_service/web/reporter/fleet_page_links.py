"""The links of the Reporter's page (SPEC 11): its periods and its metric filter; pure.

Periods are SPEC 3's (``dateFrom``/``dateTo``, UTC days, both included, never after
today): the last 30 days (the default), this and last month, quarter and year, and any
other as ``dateFrom``/``dateTo`` in the address. A current month, quarter or year ends
today. Each period link keeps the metric chosen, and each metric link the period.
Links hold no token: no answer ever does (SPEC 4.6); the page's script adds the token
the tab kept (``fleet_page_script``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from license_service.metering.periods import DatePeriod


@dataclass(frozen=True, slots=True)
class PageLink:
    """A link to the page of another period or metric; ``current`` when it is the one shown."""

    id: str
    label: str
    href: str
    current: bool


def page_href(period: DatePeriod, metric: str | None) -> str:
    """The address of the page of ``period`` and ``metric`` (``None``: every metric)."""
    query = {"dateFrom": period.first.isoformat(), "dateTo": period.last.isoformat()}
    if metric:
        query["metricName"] = metric
    return f"/?{urlencode(query)}"


def period_links(*, today: date, shown: DatePeriod, metric: str | None) -> list[PageLink]:
    """The preset periods, each for ``metric``, the one ``shown`` marked current."""
    return [
        PageLink(f"period-{name}", label, page_href(period, metric), period == shown)
        for name, label, period in period_presets(today)
    ]


def metric_links(
    metrics: Iterable[str], *, period: DatePeriod, shown: str | None
) -> list[PageLink]:
    """The link to every metric, then one per metric of ``metrics`` (sorted), over ``period``."""
    links = [PageLink("metric-all", "every metric", page_href(period, None), shown is None)]
    links += [
        PageLink(f"metric-{index}", metric, page_href(period, metric), metric == shown)
        for index, metric in enumerate(sorted(set(metrics)))
    ]
    return links


def period_presets(today: date) -> list[tuple[str, str, DatePeriod]]:
    """(id, label, period) of the last 30 days, month, quarter and year, current and last."""
    month = today.replace(day=1)
    last_month_end = month - timedelta(days=1)
    quarter = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
    last_quarter_end = quarter - timedelta(days=1)
    last_quarter = last_quarter_end.replace(month=(last_quarter_end.month - 1) // 3 * 3 + 1, day=1)
    year = today.replace(month=1, day=1)
    last_year_end = year - timedelta(days=1)
    return [
        ("30-days", "last 30 days", DatePeriod.ending(today)),
        ("this-month", "this month", DatePeriod(month, today)),
        ("last-month", "last month", DatePeriod(last_month_end.replace(day=1), last_month_end)),
        ("this-quarter", "this quarter", DatePeriod(quarter, today)),
        ("last-quarter", "last quarter", DatePeriod(last_quarter, last_quarter_end)),
        ("this-year", "this year", DatePeriod(year, today)),
        (
            "last-year",
            "last year",
            DatePeriod(last_year_end.replace(month=1, day=1), last_year_end),
        ),
    ]
