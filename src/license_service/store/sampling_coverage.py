"""When sampling ran and when it did not, so reports can show gaps (SPEC 2.7, 5).

Coverage is kept as intervals ``[started_at, ended_at]`` of samples taken at one
interval: a sample extends the interval of the previous one when it comes at most
1.5 intervals later, on the same UTC day, with no missed sample recorded between
them; otherwise it opens a new interval. Each interval counts its samples, so counts
and gaps stay exact after raw samples are pruned (intervals never span midnight,
so whole days are counted exactly). Missed samples are kept with their reason.

A gap is a hole between coverage intervals (the times of the samples around it)
that is longer than 1.5 intervals or holds a recorded missed sample.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any, Final

from sqlalchemy import Column, ColumnElement, Connection, func, insert, select, update

from license_service.errors import StorageError
from license_service.metering.cluster_view import ClusterId
from license_service.store.instants import utc_day, utc_instant
from license_service.store.tables import missed_samples, samples, sampling_coverage

# The smallest step of a stored instant: turns "up to and including" into "before".
_EPSILON: Final = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Gap:
    """Time without samples: from the last sample before it to the first after it.

    Both ends are clipped to the window asked for. ``reason`` joins the reasons of
    the missed samples recorded in the gap, or is ``None`` when none was recorded
    (the service was not running, for instance).
    """

    start: datetime
    end: datetime
    reason: str | None


@dataclass(frozen=True, slots=True)
class SamplingSummary:
    """How many samples were taken in a window, of how many expected, at what interval.

    ``interval_seconds`` is the interval in force at the end of the window; it and
    ``samples_expected`` are ``None``/0 when the cluster was never sampled.
    """

    samples_taken: int
    samples_expected: int
    interval_seconds: int | None
    samples_missed: int


@dataclass(frozen=True, slots=True)
class _Coverage:
    started_at: datetime
    ended_at: datetime
    interval_seconds: int
    samples_taken: int

    def tolerates(self, hole: timedelta) -> bool:
        """Whether ``hole`` is short enough (at most 1.5 intervals) not to be a gap."""
        return _tolerates(self.interval_seconds, hole)


def _tolerates(interval_seconds: int, hole: timedelta) -> bool:
    return hole * 2 <= timedelta(seconds=3 * interval_seconds)


def extend_coverage(
    connection: Connection, *, cluster_id: ClusterId, taken_at: datetime, interval_seconds: int
) -> None:
    """Count the sample taken at ``taken_at`` in the coverage of ``cluster_id``."""
    table = sampling_coverage
    previous = connection.execute(
        select(table)
        .where(table.c.cluster_id == cluster_id, table.c.started_at <= taken_at)
        .order_by(table.c.started_at.desc())
        .limit(1)
    ).first()
    if previous is not None:
        covered = taken_at <= previous.ended_at
        continues = (
            previous.interval_seconds == interval_seconds
            and utc_day(previous.started_at) == utc_day(taken_at)
            and _tolerates(previous.interval_seconds, taken_at - previous.ended_at)
            and not _missed_between(connection, cluster_id, previous.ended_at, taken_at)
        )
        if covered or continues:
            connection.execute(
                update(table)
                .where(table.c.id == previous.id)
                .values(
                    ended_at=max(previous.ended_at, taken_at),
                    samples_taken=table.c.samples_taken + 1,
                )
            )
            return
    connection.execute(
        insert(table).values(
            cluster_id=cluster_id,
            started_at=taken_at,
            ended_at=taken_at,
            interval_seconds=interval_seconds,
            samples_taken=1,
        )
    )


def last_sampled_at(connection: Connection, *, cluster_id: ClusterId) -> datetime | None:
    """The instant of the newest sample of ``cluster_id`` (``None`` before the first).

    Read from the coverage, which every stored sample extends (one index lookup).
    """
    latest: datetime | None = connection.scalar(
        select(func.max(sampling_coverage.c.ended_at)).where(
            sampling_coverage.c.cluster_id == cluster_id
        )
    )
    return latest


def record_missed_sample(
    connection: Connection, *, cluster_id: ClusterId, at: datetime, reason: str
) -> None:
    """Record that no sample was taken at ``at`` and why (e.g. "view older than 15 minutes")."""
    instant = utc_instant(at, name="at")
    if not reason.strip():
        raise StorageError(
            f"missed sample of cluster {cluster_id!r} at {instant.isoformat()} has an empty "
            "reason: say why no sample was taken, e.g. 'cluster view not synchronised'"
        )
    connection.execute(
        insert(missed_samples).values(cluster_id=cluster_id, missed_at=instant, reason=reason)
    )


def gaps(
    connection: Connection, *, cluster_id: ClusterId, start: datetime, end: datetime
) -> list[Gap]:
    """The gaps of sampling within ``[start, end)``, oldest first.

    ``end`` should not lie in the future: the time after the last sample counts as a gap.
    """
    start, end = _window(start, end)
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

    found: list[Gap] = []
    for hole_start, hole_end, tolerated in _holes(connection, cluster_id, start, end):
        low = max(hole_start or start, start)
        high = min(hole_end or end, end)
        if low >= high:
            continue
        # An open end (no sample after the window end) still takes misses at ``end``'s edge.
        reasons = misses_in(hole_start or (start - _EPSILON), hole_end or end)
        if reasons or not tolerated:
            found.append(Gap(low, high, _joined(reasons)))
    # A miss inside covered time (recorded after a later sample) still shows.
    for when, reason in misses:
        if not any(gap.start <= when <= gap.end for gap in found):
            found.append(Gap(when, when, reason))
    return sorted(found, key=lambda gap: (gap.start, gap.end))


def sampling_summary(
    connection: Connection, *, cluster_id: ClusterId, start: datetime, end: datetime
) -> SamplingSummary:
    """Samples taken in ``[start, end)``, how many the interval in force expected, and misses."""
    start, end = _window(start, end)
    started = sampling_coverage.c.started_at
    before = _coverage(connection, cluster_id, started < start, order_by=started.desc(), limit=1)
    inside = _coverage(connection, cluster_id, started >= start, started < end, order_by=started)
    in_force = before + inside
    if not in_force:
        # Never sampled before the window ends: what came later says what was expected.
        in_force = _first_from(connection, cluster_id, end)
    missed = _count_within(
        connection, missed_samples.c.missed_at, cluster_id=cluster_id, since=start, before=end
    )
    taken = sum(
        _taken_within(connection, cluster_id, coverage, start, end)
        for coverage in in_force
        if coverage.started_at < end and coverage.ended_at >= start
    )
    return SamplingSummary(
        samples_taken=taken,
        samples_expected=_expected(in_force, start, end),
        interval_seconds=in_force[-1].interval_seconds if in_force else None,
        samples_missed=missed,
    )


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


def _first_from(connection: Connection, cluster_id: ClusterId, end: datetime) -> list[_Coverage]:
    """The first coverage interval starting at or after ``end`` (none or one)."""
    started = sampling_coverage.c.started_at
    return _coverage(connection, cluster_id, started >= end, order_by=started, limit=1)


def _holes(
    connection: Connection, cluster_id: ClusterId, start: datetime, end: datetime
) -> list[tuple[datetime | None, datetime | None, bool]]:
    """Holes between coverage intervals around ``[start, end)``: (from, to, tolerated).

    ``None`` ends mean no coverage before (or after) at all.
    """
    started, ended = sampling_coverage.c.started_at, sampling_coverage.c.ended_at
    around = (
        _coverage(connection, cluster_id, ended < start, order_by=ended.desc(), limit=1)
        + _coverage(connection, cluster_id, ended >= start, started < end, order_by=started)
        + _first_from(connection, cluster_id, end)
    )
    if not around:
        return [(None, None, False)]
    around.sort(key=lambda coverage: coverage.started_at)
    first, last = around[0], around[-1]
    holes: list[tuple[datetime | None, datetime | None, bool]] = [
        (None, first.started_at, first.tolerates(first.started_at - start))
    ]
    reached = first.ended_at
    for coverage in around[1:]:
        if coverage.started_at > reached:
            hole = coverage.started_at - reached
            holes.append((reached, coverage.started_at, coverage.tolerates(hole)))
        reached = max(reached, coverage.ended_at)
    holes.append((reached, None, last.tolerates(end - reached)))
    return holes


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
        return _count_within(
            connection, samples.c.taken_at, cluster_id=cluster_id, since=since, before=before
        )

    if raw_count(coverage.started_at, coverage.ended_at + _EPSILON) >= coverage.samples_taken:
        return raw_count(low, high)
    span = (coverage.ended_at - coverage.started_at).total_seconds()
    if span == 0:
        return coverage.samples_taken
    return round(coverage.samples_taken * (high - low).total_seconds() / span)


def _count_within(
    connection: Connection,
    instant: Column[datetime],
    *,
    cluster_id: ClusterId,
    since: datetime,
    before: datetime,
) -> int:
    """How many rows of ``cluster_id`` in ``instant``'s table have it in ``[since, before)``."""
    table = instant.table
    count = connection.scalar(
        select(func.count())
        .select_from(table)
        .where(table.c.cluster_id == cluster_id, instant >= since, instant < before)
    )
    return int(count or 0)


def _expected(in_force: Sequence[_Coverage], start: datetime, end: datetime) -> int:
    """Samples the intervals in force over ``[start, end)`` ask for, rounded up."""
    total = Fraction(0)
    for index, coverage in enumerate(in_force):
        since = start if index == 0 else max(start, coverage.started_at)
        until = end if index + 1 == len(in_force) else min(end, in_force[index + 1].started_at)
        if until > since:
            seconds = Fraction((until - since) // timedelta(microseconds=1), 1_000_000)
            total += seconds / coverage.interval_seconds
    return math.ceil(total)


def _missed_between(
    connection: Connection, cluster_id: ClusterId, after: datetime, before: datetime
) -> bool:
    found = connection.scalar(
        select(missed_samples.c.id)
        .where(
            missed_samples.c.cluster_id == cluster_id,
            missed_samples.c.missed_at > after,
            missed_samples.c.missed_at < before,
        )
        .limit(1)
    )
    return found is not None


def _joined(reasons: Sequence[str]) -> str | None:
    distinct = list(dict.fromkeys(reasons))
    return "; ".join(distinct) if distinct else None
