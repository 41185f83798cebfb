"""Storing a sample: its raw usage rows, the day's peaks and the sampling coverage (SPEC 2.7).

All three are written on the caller's connection, inside the caller's transaction, so
a sample and the peaks it raised are stored together or not at all. Each table gets
one bulk statement, whatever the number of products: a prepared executemany of the
driver (``upserts.bulk_insert``), so a thousand products cost tens of milliseconds.
``latest_sample`` reads the newest raw sample back ("usage now" after a restart).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from license_service.errors import StorageError
from license_service.metering.cloudpak_sums import cloudpak_names, converted_sums
from license_service.metering.cluster_view import ClusterId
from license_service.metering.row_specs import R, RowSpec
from license_service.metering.usage import Measurement
from license_service.metering.usage_rows import (
    BUNDLED_PRODUCT_ROWS,
    PRODUCT_ROWS,
    SERVICE_ROWS,
    USAGE_ROWS,
)
from license_service.store.cloudpak_days import record_measured_sums
from license_service.store.daily_peaks import record_daily_peaks, record_group_peaks
from license_service.store.instants import utc_day, utc_instant
from license_service.store.sampling_coverage import extend_coverage
from license_service.store.stored_rows import decoded, group_rows, measurement_rows
from license_service.store.tables import samples, usage_tables
from license_service.store.upserts import BulkInsert, bulk_insert

_SHARED: Final = ("sample_id", "cluster_id")


def _raw_rows(rows: RowSpec[Any]) -> BulkInsert:
    """The insert of a sample's usage rows of one kind, one executemany for all."""
    return BulkInsert(usage_tables(rows).samples, columns=rows.database_columns, shared=_SHARED)


_RAW_ROWS: Final = {kind: _raw_rows(kind) for kind in USAGE_ROWS}


def record_sample(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    taken_at: datetime,
    measurement: Measurement,
    interval_seconds: int,
    groups: Mapping[str, Measurement] | None = None,
) -> None:
    """Store the sample of ``cluster_id`` taken at ``taken_at``, with its peaks and coverage.

    ``interval_seconds`` is the sampling interval in force. ``groups`` (chargeback on, SPEC 8):
    each group's measurement, whose rows raise the group's daily peaks (no raw rows kept).
    Raises ``StorageError`` for a naive ``taken_at``, a non-positive interval, or a sample
    already stored for that instant.
    """
    instant = utc_instant(taken_at, name="taken_at")
    if interval_seconds <= 0:
        raise StorageError(
            f"sampling interval {interval_seconds!r} s is not positive: pass the configured "
            "interval, e.g. 300"
        )
    # Written first: on SQLite the transaction then holds the write lock from the start.
    try:
        inserted = connection.execute(
            insert(samples).values(
                cluster_id=cluster_id, taken_at=instant, interval_seconds=interval_seconds
            )
        ).inserted_primary_key
    except IntegrityError as exc:
        raise StorageError(
            f"a sample of cluster {cluster_id!r} taken at {instant.isoformat()} is already "
            "stored: each instant is sampled once"
        ) from exc
    if inserted is None:
        raise StorageError(f"database gave no id for the sample at {instant.isoformat()}")
    sample_id = inserted[0]
    rows = measurement_rows(measurement)
    shared = {"sample_id": sample_id, "cluster_id": cluster_id}
    for kind, kind_rows in rows.by_kind():
        bulk_insert(connection, _RAW_ROWS[kind], kind_rows, shared=shared)
    record_daily_peaks(
        connection, cluster_id=cluster_id, day=utc_day(instant), taken_at=instant, rows=rows
    )
    if groups:
        record_group_peaks(
            connection,
            cluster_id=cluster_id,
            day=utc_day(instant),
            taken_at=instant,
            rows=group_rows(groups),
        )
    # The exact Cloud Pak sums, for days with uploaded usage (SPEC 10).
    sums = converted_sums(measurement.bundled_products)
    record_measured_sums(
        connection,
        cluster_id=cluster_id,
        day=utc_day(instant),
        taken_at=instant,
        sums=sums,
        names=cloudpak_names(measurement),
    )
    extend_coverage(
        connection, cluster_id=cluster_id, taken_at=instant, interval_seconds=interval_seconds
    )


@dataclass(frozen=True, slots=True)
class StoredSample:
    """A sample read back: when it was taken, at what interval, and its usage rows.

    Only usage is stored: the measurement's problems (annotations, nodes, warnings) are empty.
    """

    taken_at: datetime
    interval_seconds: int
    measurement: Measurement


def latest_sample(connection: Connection, *, cluster_id: ClusterId) -> StoredSample | None:
    """The newest stored sample of ``cluster_id``, or ``None`` when there is none."""
    sample = connection.execute(
        select(samples.c.id, samples.c.taken_at, samples.c.interval_seconds)
        .where(samples.c.cluster_id == cluster_id)
        .order_by(samples.c.taken_at.desc())
        .limit(1)
    ).first()
    if sample is None:
        return None
    measurement = Measurement(
        products=_sample_rows(connection, PRODUCT_ROWS, sample.id),
        bundled_products=_sample_rows(connection, BUNDLED_PRODUCT_ROWS, sample.id),
        services=_sample_rows(connection, SERVICE_ROWS, sample.id),
    )
    return StoredSample(sample.taken_at, sample.interval_seconds, measurement)


def _sample_rows(connection: Connection, rows: RowSpec[R], sample_id: int) -> tuple[R, ...]:
    """The usage rows of kind ``rows`` of the sample ``sample_id``, in the API's order."""
    table = usage_tables(rows).samples
    stored = connection.execute(
        select(*(table.c[name] for name in rows.database_fields)).where(
            table.c.sample_id == sample_id
        )
    )
    return tuple(sorted(decoded(rows, values) for values in stored))
