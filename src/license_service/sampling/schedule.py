"""When samples are taken: instants aligned to the sampling interval (SPEC 2.7).

Samples fall on whole multiples of the interval since the Unix epoch (every
:00, :05, :10 ... for five minutes), so samples of different runs, processes and
the backfill line up. Functions here are pure.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Final

from license_service.errors import ConfigurationError

DEFAULT_INTERVAL: Final = timedelta(seconds=300)
MAX_INTERVAL_SECONDS: Final = 86_400
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def interval_seconds(interval: timedelta) -> int:
    """Return ``interval`` in whole seconds; ``ConfigurationError`` unless 1 s to 1 day."""
    seconds = interval.total_seconds()
    if interval % timedelta(seconds=1) or not 1 <= seconds <= MAX_INTERVAL_SECONDS:
        raise ConfigurationError(
            f"sampling interval {seconds:g} s is not a whole number of seconds between 1 and "
            f"{MAX_INTERVAL_SECONDS}; use e.g. 300 for five minutes"
        )
    return int(seconds)


def next_boundary(now: datetime, interval: timedelta) -> datetime:
    """The first aligned instant at or after ``now`` (timezone-aware); pure."""
    offset = (now - _EPOCH) % interval
    return now if not offset else now - offset + interval


def boundaries(start: datetime, end: datetime, interval: timedelta) -> Iterator[datetime]:
    """The aligned instants from ``start`` (included) to ``end`` (excluded), in UTC; pure."""
    instant = next_boundary(start.astimezone(UTC), interval)
    while instant < end:
        yield instant
        instant += interval


def count_boundaries(start: datetime, end: datetime, interval: timedelta) -> int:
    """How many instants ``boundaries`` yields, computed without iterating; pure."""
    first = next_boundary(start.astimezone(UTC), interval)
    if first >= end:
        return 0
    return -(-(end - first) // interval)
