"""Recording when sampling ran and when it did not (SPEC 2.7): coverage and missed samples.

Coverage is kept as intervals ``[started_at, ended_at]`` of samples taken at one
interval: a sample extends the interval of the previous one when it comes at most
1.5 intervals later, on the same UTC day, with no missed sample recorded between
them; otherwise it opens a new interval. Each interval counts its samples, so counts
and gaps stay exact after raw samples are pruned (intervals never span midnight,
so whole days are counted exactly). Missed samples are kept with their reason.
``sampling_gaps`` reads both back as gaps and counts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, func, insert, select, update

from license_service.errors import StorageError
from license_service.metering.cluster_view import ClusterId
from license_service.store.instants import utc_day, utc_instant
from license_service.store.tables import missed_samples, sampling_coverage


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
