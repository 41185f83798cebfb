"""Gaps and sample counts of a window, read from the coverage (SPEC 2.7, 5).

``sampling_coverage`` records intervals of continuous sampling and missed samples
with their reason. Reading them back, one rule counts what was missed
(``missed_instants``): between two samples, the instants due at the interval in
force after the first one that came more than half an interval before the second
(or before the end of the window, when no sample followed). A gap is a hole holding
such an instant or a recorded missed sample; it counts its missed instants (at least
one per recorded miss), and

    samples expected = samples taken + samples missed (the sum over the gaps),

so "taken of expected" never exceeds 100 % and agrees with the gaps listed. Nothing
is expected before sampling began: the first sample, or the first recorded missed
sample when sampling was failing from the start (a fresh install shows no gap for the
days before it). The hour in progress is no gap while its sample is not overdue.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, Connection, func, select

from license_service.errors import StorageError
from license_service.metering.cluster_view import ClusterId
from license_service.store.instants import utc_instant
from license_service.store.missed_instants import missed_instants
from license_service.store.tables import missed_samples, samples, sampling_coverage

# The smallest step of a stored instant: turns "up to and including" into "before".
_EPSILON: Final = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Gap:
    """Time without samples: from the last sample before it to the first after it.

    Both ends are clipped to the window asked for; a gap before the first sample ever
    starts at the first recorded missed sample. ``reason`` joins the reasons of the
    missed samples recorded in the gap, or is ``None`` when none was recorded (the
    service was not running, for instance). ``samples_missed`` counts the sampling
    instants of the window the gap passed over (``missed_instants``).
    """

    start: datetime
    end: datetime
    reason: str | None
    samples_missed: int = 0


@dataclass(frozen=True, slots=True)
class SamplingSummary:
    """How many samples were taken in a window, of how many expected, at what interval.

    ``samples_expected`` is ``samples_taken`` plus ``samples_missed``, the instants
    missed in the window's gaps. ``interval_seconds`` is the interval in force at the
    end of the window (``None`` when the cluster was never sampled). ``counted_from``
    is when sampling began, when that lies inside the window: nothing before it is
    expected.
    """

    samples_taken: int
    samples_expected: int
    interval_seconds: int | None
    samples_missed: int
    counted_from: datetime | None = None

    def taken_share(self) -> str:
        """`` (99.7 %)``: taken of expected, rounded down to 0.1 %; empty when none expected."""
        if self.samples_expected <= 0:
            return ""
        # Rounded down: 99.96 % must not read as 100.0 %.
        tenths = self.samples_taken * 1000 // self.samples_expected
        return f" ({tenths // 10}.{tenths % 10} %)"


@dataclass(frozen=True, slots=True)
class _Coverage:
    started_at: datetime
    ended_at: datetime
    interval_seconds: int
    samples_taken: int


def gaps(
    connection: Connection, *, cluster_id: ClusterId, start: datetime, end: datetime
) -> list[Gap]:
    """The gaps of sampling within ``[start, end)``, oldest first.

    ``end`` should not lie in the future: a sample overdue at ``end`` counts as missed.
    """
    return _report(connection, cluster_id, *_window(start, end))[0]


def sampling_summary(
    connection: Connection, *, cluster_id: ClusterId, start: datetime, end: datetime
) -> SamplingSummary:
    """Samples taken in ``[start, end)``, those missed in its gaps, and their sum as expected."""
    return _report(connection, cluster_id, *_window(start, end))[1]


def _report(
    connection: Connection, cluster_id: ClusterId, start: datetime, end: datetime
) -> tuple[list[Gap], SamplingSummary]:
    """The gaps of ``[start, end)`` and the summary that agrees with them."""
    found, began = _gaps(connection, cluster_id, start, end)
    in_force = _in_force(connection, cluster_id, start, end)
    taken = sum(
        _taken_within(connection, cluster_id, coverage, start, end)
        for coverage in in_force
        if coverage.started_at < end and coverage.ended_at >= start
    )
    missed = sum(gap.samples_missed for gap in found)
    summary = SamplingSummary(
        samples_taken=taken,
        samples_expected=taken + missed,
        interval_seconds=in_force[-1].interval_seconds if in_force else None,
        samples_missed=missed,
        counted_from=began if began is not None and start < began < end else None,
    )
    return found, summary


def _gaps(
    connection: Connection, cluster_id: ClusterId, start: datetime, end: datetime
) -> tuple[list[Gap], datetime | None]:
    """The gaps in ``[start, end)`` and when sampling began (``None``: never)."""
    misses = connection.execute(
        select(missed_samples.c.missed_at, missed_samples.c.reason)
        .where(
            missed_samples.c.cluster_id == cluster_id,
            missed_samples.c.missed_at >= start,
            missed_samples.c.missed_at < end,
        )
        .order_by(missed_samples.c.missed_at, missed_samples.c.id)
    ).all()
    miss_times = [miss.missed_at for miss in misses]

    def misses_in(low: datetime, high: datetime) -> list[str]:
        """Reasons of misses strictly after ``low`` and strictly before ``high``."""
        first = bisect.bisect_right(miss_times, low)
        last = bisect.bisect_left(miss_times, high)
        return [misses[index].reason for index in range(first, last)]

    around = _around(connection, cluster_id, start, end)
    first_miss = _first_miss(connection, cluster_id, before=around[0].started_at if around else end)
    began = min(filter(None, (around[0].started_at if around else None, first_miss)), default=None)
    found: list[Gap] = []
    for hole in _holes(around, first_miss=first_miss, end=end):
        low, high = max(hole.start, start), min(hole.end, end)
        if low >= high:
            continue
        # A hole opened by a miss takes that miss too; an open end takes misses at ``end``.
        reasons = misses_in(hole.start - _EPSILON if hole.opened_by_miss else hole.start, hole.end)
        missed = missed_instants(
            hole.after,
            hole.end,
            interval_seconds=hole.interval_seconds,
            window=(start, end),
        )
        # Every recorded miss stands for at least one instant, whatever the clock did.
        missed = max(missed, len(reasons))
        if missed or reasons:
            found.append(Gap(low, high, _joined(reasons), missed))
    # A miss inside covered time (recorded after a later sample) still shows.
    for when, reason in misses:
        if not any(gap.start <= when <= gap.end for gap in found):
            found.append(Gap(when, when, reason))
    return sorted(found, key=lambda gap: (gap.start, gap.end)), began


@dataclass(frozen=True, slots=True)
class _Hole:
    """Time between two samples (``start`` to ``end``) in which instants were due.

    ``after`` is the instant the due instants count from (the sample before, or one
    interval before the first recorded miss when no sample came before).
    """

    start: datetime
    end: datetime
    after: datetime
    interval_seconds: int
    opened_by_miss: bool = False


def _holes(
    around: Sequence[_Coverage], *, first_miss: datetime | None, end: datetime
) -> list[_Hole]:
    """Every hole between the coverage intervals ``around`` (sorted), and after the last.

    Without a coverage before the first one, the time before it is no hole, unless
    misses were recorded then: sampling had begun, and failed, since the first of them.
    """
    if not around:
        if first_miss is None:
            return []
        # Never sampled: the interval is not known; each recorded miss is one instant.
        return [_Hole(first_miss, end, end, 1, opened_by_miss=True)]
    first = around[0]
    holes = []
    if first_miss is not None and first_miss < first.started_at:
        interval = timedelta(seconds=first.interval_seconds)
        holes.append(
            _Hole(
                first_miss,
                first.started_at,
                first_miss - interval,
                first.interval_seconds,
                opened_by_miss=True,
            )
        )
    reached = first
    for coverage in around[1:]:
        if coverage.started_at > reached.ended_at:
            holes.append(
                _Hole(
                    reached.ended_at,
                    coverage.started_at,
                    reached.ended_at,
                    reached.interval_seconds,
                )
            )
        if coverage.ended_at >= reached.ended_at:
            reached = coverage
    if reached.ended_at < end:
        holes.append(_Hole(reached.ended_at, end, reached.ended_at, reached.interval_seconds))
    return holes


def _around(
    connection: Connection, cluster_id: ClusterId, start: datetime, end: datetime
) -> list[_Coverage]:
    """The coverage ending last before ``start``, those in the window, the first after it."""
    started, ended = sampling_coverage.c.started_at, sampling_coverage.c.ended_at
    around = (
        _coverage(connection, cluster_id, ended < start, order_by=ended.desc(), limit=1)
        + _coverage(connection, cluster_id, ended >= start, started < end, order_by=started)
        + _first_from(connection, cluster_id, end)
    )
    return sorted(around, key=lambda coverage: coverage.started_at)


def _first_from(
    connection: Connection, cluster_id: ClusterId, instant: datetime
) -> list[_Coverage]:
    """The first coverage interval starting at or after ``instant`` (none or one)."""
    started = sampling_coverage.c.started_at
    return _coverage(connection, cluster_id, started >= instant, order_by=started, limit=1)


def _first_miss(
    connection: Connection, cluster_id: ClusterId, *, before: datetime
) -> datetime | None:
    """The first missed sample ever recorded before ``before`` (``None``: none)."""
    first: datetime | None = connection.scalar(
        select(func.min(missed_samples.c.missed_at)).where(
            missed_samples.c.cluster_id == cluster_id, missed_samples.c.missed_at < before
        )
    )
    return first


def _in_force(
    connection: Connection, cluster_id: ClusterId, start: datetime, end: datetime
) -> list[_Coverage]:
    """The coverage intervals that count samples in ``[start, end)``, oldest first.

    Without any up to ``end``, the first after it, whose interval the summary shows.
    """
    started = sampling_coverage.c.started_at
    in_force = _coverage(
        connection, cluster_id, started < start, order_by=started.desc(), limit=1
    ) + _coverage(connection, cluster_id, started >= start, started < end, order_by=started)
    return in_force or _first_from(connection, cluster_id, end)


def _window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start = utc_instant(start, name="start")
    end = utc_instant(end, name="end")
    if end < start:
        raise StorageError(
            f"window {start.isoformat()} to {end.isoformat()} ends before it starts: "
            "swap the two instants"
        )
    return start, end


def _coverage(
    connection: Connection,
    cluster_id: ClusterId,
    *conditions: ColumnElement[bool],
    order_by: ColumnElement[Any],
    limit: int | None = None,
) -> list[_Coverage]:
    """The coverage intervals of ``cluster_id`` meeting ``conditions``, in ``order_by``."""
    table = sampling_coverage
    statement = select(table).where(table.c.cluster_id == cluster_id, *conditions)
    rows = connection.execute(statement.order_by(order_by).limit(limit)).all()
    return [
        _Coverage(row.started_at, row.ended_at, row.interval_seconds, row.samples_taken)
        for row in rows
    ]


def _taken_within(
    connection: Connection,
    cluster_id: ClusterId,
    coverage: _Coverage,
    start: datetime,
    end: datetime,
) -> int:
    if coverage.started_at >= start and coverage.ended_at < end:
        return coverage.samples_taken
    # The window cuts this interval: count its raw samples while they are all kept,
    # else share its count out by time.
    low, high = max(start, coverage.started_at), min(end, coverage.ended_at + _EPSILON)

    def raw_count(since: datetime, before: datetime) -> int:
        count = connection.scalar(
            select(func.count())
            .select_from(samples)
            .where(
                samples.c.cluster_id == cluster_id,
                samples.c.taken_at >= since,
                samples.c.taken_at < before,
            )
        )
        return int(count or 0)

    if raw_count(coverage.started_at, coverage.ended_at + _EPSILON) >= coverage.samples_taken:
        return raw_count(low, high)
    span = (coverage.ended_at - coverage.started_at).total_seconds()
    if span == 0:
        return coverage.samples_taken
    return round(coverage.samples_taken * (high - low).total_seconds() / span)


def _joined(reasons: Sequence[str]) -> str | None:
    distinct = list(dict.fromkeys(reasons))
    return "; ".join(distinct) if distinct else None
