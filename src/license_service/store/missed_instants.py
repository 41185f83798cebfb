"""The one rule that counts missed sampling instants, used by the sampler and by every report.

After a sample at ``after``, the next is due one interval later, then every interval.
A due instant is *missed* once half an interval has passed after it without a sample:
so between two samples ``after`` and ``before`` (or up to now, with no later sample)
the missed instants are ``after + k * interval`` (k = 1, 2, ...) that come more than
half an interval before ``before``.

The same rule makes a gap: a hole of more than 1.5 intervals between two samples
misses at least one instant, a hole of at most 1.5 intervals (a late sample) none.
The sampler counts the instants a clock jump skipped with it, and reports (the status
page, ``data_condition.txt``) count the instants of each gap with it, so the numbers
agree wherever they are shown. Pure.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Final

_MICROSECOND: Final = timedelta(microseconds=1)


def missed_instants(
    after: datetime,
    before: datetime,
    *,
    interval_seconds: int,
    window: tuple[datetime, datetime] | None = None,
) -> int:
    """How many instants due after a sample at ``after`` were missed by ``before``.

    With ``window`` (a report's ``[start, end)``), only the instants inside it count.
    ``before`` is the next sample, or the end of the time looked at.
    """
    if before <= after:
        return 0
    # Instants after + k * interval, k >= 1, with k < (before - after) / interval - 1/2.
    below = _intervals(before - after, interval_seconds) - Fraction(1, 2)
    lowest = 1
    if window is not None:
        start, end = window
        below = min(below, _intervals(end - after, interval_seconds))
        lowest = max(lowest, math.ceil(_intervals(start - after, interval_seconds)))
    highest = math.ceil(below) - 1
    return max(0, highest - lowest + 1)


def _intervals(length: timedelta, interval_seconds: int) -> Fraction:
    """``length`` in sampling intervals, exactly."""
    return Fraction(length // _MICROSECOND, interval_seconds * 1_000_000)
