"""The links of ``/status``: back to ``/``, and to the page of another period; pure.

No answer ever holds a token (SPEC 4.6), and the status page runs no script, so its
links cannot carry the ``?token=`` it was opened with. They go through ``/`` instead,
whose script holds the token for the tab: the link back opens ``/`` with the period
shown, and each period link (the last 7, 30, 90 or 365 days, this month, last month)
opens ``/`` with ``open=status``, which goes on at once to the status page of that
period with the token, or asks for the token when the tab has none. Any other period
is picked on ``/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from license_service.metering.periods import DatePeriod


@dataclass(frozen=True, slots=True)
class PeriodLink:
    """A link to the status page of one period; ``current`` when it is the period shown."""

    id: str
    label: str
    href: str
    current: bool


@dataclass(frozen=True, slots=True)
class StatusLinks:
    """The page's link back to ``/`` and its period links."""

    home: str
    periods: list[PeriodLink]


def status_links(*, today: date, shown: DatePeriod) -> StatusLinks:
    """The links of a status page showing ``shown``, opened on ``today``."""
    periods = [
        PeriodLink(
            id=f"period-{name}",
            label=label,
            href=_index_url(period, open_status=True),
            current=period == shown,
        )
        for name, label, period in _presets(today)
    ]
    return StatusLinks(home=_index_url(shown, open_status=False), periods=periods)


def period_text(period: DatePeriod, *, today: date) -> str:
    """``the last 30 days (2026-10-30 to 2026-11-28)``, or ``2026-10-01 to 2026-10-31``."""
    span = f"{period.first.isoformat()} to {period.last.isoformat()}"
    if period.last == today:
        return f"the last {period.days} days ({span})"
    return span


def _index_url(period: DatePeriod, *, open_status: bool) -> str:
    query = {"dateFrom": period.first.isoformat(), "dateTo": period.last.isoformat()}
    if open_status:
        query["open"] = "status"
    return f"/?{urlencode(query)}"


def _presets(today: date) -> list[tuple[str, str, DatePeriod]]:
    this_month = today.replace(day=1)
    last_month_end = this_month - timedelta(days=1)
    return [
        *(
            (f"{days}-days", f"{days} days", DatePeriod.ending(today, days=days))
            for days in (7, 30, 90, 365)
        ),
        ("this-month", "this month", DatePeriod(this_month, today)),
        ("last-month", "last month", DatePeriod(last_month_end.replace(day=1), last_month_end)),
    ]
