"""Which days the next pushes carry, and how long to wait after a failure (SPEC 11); pure.

From the day after the last day the Reporter acknowledged (the first time: the
``initial_days`` before today) through today, in pushes of at most
``MAX_DAYS_PER_PUSH`` days; never further back than daily peaks are kept. A failed
push is retried after an exponential backoff with jitter (5xx, no answer), or after
an hour (a refusal: a configuration problem that hammering will not fix).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

from license_service.fleet.push_format import MAX_DAYS_PER_PUSH
from license_service.metering.periods import DatePeriod

OLDEST_DAY: Final = 731
"""How far back a push may reach: the days daily peaks are kept (``spec.sender.initialDays``'s
bound too)."""
PUSH_EVERY_SECONDS: Final = 3600.0
FIRST_RETRY_SECONDS: Final = 15.0
LONGEST_RETRY_SECONDS: Final = 1800.0


def push_periods(
    *, acknowledged_through: date | None, today: date, initial_days: int
) -> list[DatePeriod]:
    """The periods to push next, oldest first, each at most ``MAX_DAYS_PER_PUSH`` days."""
    oldest = today - timedelta(days=OLDEST_DAY)
    if acknowledged_through is None:
        first = today - timedelta(days=initial_days)
    else:
        first = acknowledged_through + timedelta(days=1)
    # Today is re-sent until it ends, even when the Reporter claims a later day.
    first = min(max(first, oldest), today)
    periods = []
    while first <= today:
        last = min(first + timedelta(days=MAX_DAYS_PER_PUSH - 1), today)
        periods.append(DatePeriod(first, last))
        first = last + timedelta(days=1)
    return periods


def retry_seconds(failures: int, *, jitter: float) -> float:
    """The wait after ``failures`` retryable failures in a row; ``jitter`` in [0, 1).

    Doubles from ``FIRST_RETRY_SECONDS`` up to ``LONGEST_RETRY_SECONDS``, then takes a
    random share between half and all of it, so many clusters do not retry in step.
    """
    doubled = FIRST_RETRY_SECONDS * float(2 ** min(max(failures - 1, 0), 20))
    ceiling = min(doubled, LONGEST_RETRY_SECONDS)
    return ceiling * (0.5 + jitter / 2)
