"""The query parameters of the report endpoints, read into a period, a metric and a format.

SPEC 3: ``dateFrom`` and ``dateTo`` (``YYYY-MM-DD``, inclusive, UTC), also spelled
``startDate`` and ``endDate``; both or neither, neither meaning the 30 days ending
today. Decisions where the SPEC is silent:

- the two spellings may be mixed (``dateFrom`` with ``endDate``);
- the same date given in both spellings (``dateFrom`` and ``startDate``) must agree,
  else the request is refused (400), never silently resolved;
- an empty value (``dateFrom=``) counts as not given, like an empty ``metricName``
  (no filter) and an empty ``format`` (JSON);
- ``format`` is ``json`` (the default) or ``csv``, in any case; other values are refused;
- a date before ``EARLIEST_DATE`` (1970-01-01) is refused: no data can be that old, and
  the edges of the calendar (year 1) are no place for the store's arithmetic;
- a ``metricName`` holding a character no stored text can hold (a NUL, a control
  character...: ``formats.unsafe_characters``) is refused, never sent to the store
  (PostgreSQL failed on a NUL, which answered 503).

Pure: ``today`` is a parameter. Every refusal raises ``RequestError`` whose message
names the parameter and how to fix it; the web layer answers 400. A value is shown
only as the date it was read as: what a client sent is never echoed, since it may be
a token pasted into the wrong parameter (``dateFrom=<token>``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from license_service.errors import RequestError
from license_service.formats.unsafe_characters import first_unsafe_character
from license_service.metering.periods import (
    DEFAULT_PERIOD_DAYS,
    EARLIEST_DATE,
    MAX_PERIOD_DAYS,
    DatePeriod,
)

ReportFormat = Literal["json", "csv"]

FROM_NAMES: Final = ("dateFrom", "startDate")
TO_NAMES: Final = ("dateTo", "endDate")
_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_FORMATS: Final[tuple[ReportFormat, ...]] = ("json", "csv")
_DATE_HINT: Final = "write dates as YYYY-MM-DD, e.g. 2026-11-02"
_BOTH_OR_NEITHER: Final = (
    "give both dateFrom and dateTo (or startDate and endDate), or neither for the "
    f"last {DEFAULT_PERIOD_DAYS} days"
)


@dataclass(frozen=True, slots=True)
class ReportQuery:
    """What a report request asks for: a period, optionally one metric, JSON or CSV."""

    period: DatePeriod
    metric: str | None
    format: ReportFormat


def report_query(query: Mapping[str, str], *, today: date) -> ReportQuery:
    """Read the period, ``metricName`` and ``format`` of a report request; pure."""
    return ReportQuery(
        period=period_from(query, today=today),
        metric=metric_from(query),
        format=format_from(query),
    )


def metric_from(query: Mapping[str, str]) -> str | None:
    """The ``metricName`` filter (absent or empty: none); refused when no stored metric can
    hold it (``formats.unsafe_characters``); pure."""
    metric = query.get("metricName") or None
    found = None if metric is None else first_unsafe_character(metric)
    if found is not None:
        # The character is named, not the value: no token holds such a character.
        raise RequestError(
            f"metricName holds {found.describe()}, which no metric name can hold: give the "
            "metric as /products lists it, e.g. metricName=VIRTUAL_PROCESSOR_CORE"
        )
    return metric


def period_from(query: Mapping[str, str], *, today: date) -> DatePeriod:
    """The period a request asks for; the 30 days ending ``today`` when it names none; pure."""
    start = _one_date(query, FROM_NAMES)
    end = _one_date(query, TO_NAMES)
    if start is None and end is None:
        return DatePeriod.ending(today)
    if start is None:
        raise _alone(end, missing=FROM_NAMES)
    if end is None:
        raise _alone(start, missing=TO_NAMES)
    (first_name, first), (last_name, last) = start, end
    if first > last:
        raise RequestError(
            f"{first_name} {first.isoformat()} is after {last_name} {last.isoformat()}: "
            f"give the earlier date as {first_name} (swap the two dates)"
        )
    if last > today:
        raise RequestError(
            f"{last_name} {last.isoformat()} is after today ({today.isoformat()}, UTC): "
            "there is no data for future days; end the period today or earlier"
        )
    period = DatePeriod(first, last)
    if period.days > MAX_PERIOD_DAYS:
        raise RequestError(
            f"the period {first.isoformat()} to {last.isoformat()} spans {period.days} days, "
            f"more than the {MAX_PERIOD_DAYS} allowed: ask for a shorter period, or for "
            "several periods one after the other"
        )
    return period


def format_from(query: Mapping[str, str]) -> ReportFormat:
    """``json`` or ``csv`` from the ``format`` parameter (absent or empty: ``json``); pure."""
    raw = query.get("format") or "json"
    for known in _FORMATS:
        if raw.lower() == known:
            return known
    raise RequestError(
        "this format is not supported: use format=csv for CSV, or leave it out for JSON"
    )


def _alone(given: tuple[str, date] | None, *, missing: tuple[str, str]) -> RequestError:
    name = given[0] if given else "a date"
    return RequestError(f"{name} is given without {' or '.join(missing)}: {_BOTH_OR_NEITHER}")


def _one_date(query: Mapping[str, str], names: tuple[str, str]) -> tuple[str, date] | None:
    """The date given under either of ``names``, with the name used; spellings must agree."""
    given = {name: _parsed(name, query[name]) for name in names if query.get(name)}
    if len(set(given.values())) > 1:
        shown = " and ".join(f"{name}={value.isoformat()}" for name, value in given.items())
        raise RequestError(
            f"{shown} disagree: {names[1]} is another spelling of {names[0]}; give only one of them"
        )
    return next(iter(given.items()), None)


def _parsed(name: str, raw: str) -> date:
    # date.fromisoformat also takes 20261102 and 2026-W45-1: the API takes YYYY-MM-DD only.
    if _ISO_DATE.fullmatch(raw):
        try:
            parsed = date.fromisoformat(raw)
        except ValueError as exc:
            # The shape is YYYY-MM-DD, so the reason ("month must be in 1..12") echoes nothing.
            raise RequestError(f"{name} is not a date: {exc}; {_DATE_HINT}") from exc
        if parsed < EARLIEST_DATE:
            raise RequestError(
                f"{name} {parsed.isoformat()} is before {EARLIEST_DATE.isoformat()}: there is "
                "no data from before then; ask for a later period"
            )
        return parsed
    raise RequestError(f"{name} is not a date: {_DATE_HINT}")
