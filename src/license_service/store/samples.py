"""Storing a sample: its raw usage rows, the day's peaks and the sampling coverage (SPEC 2.7).

All three are written on the caller's connection, inside the caller's transaction, so
a sample and the peaks it raised are stored together or not at all. Each table gets
one bulk statement, whatever the number of products: a prepared executemany of the
driver (``upserts.bulk_insert``), so a thousand products cost tens of milliseconds.
``latest_sample`` reads the newest raw sample back ("usage now" after a restart).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import Connection, Table, insert, select
from sqlalchemy.exc import IntegrityError

from license_service.errors import StorageError
from license_service.metering.cluster_view import ClusterId
from license_service.metering.usage import (
    BundledProductUsage,
    Measurement,
    ProductUsage,
    ServiceUsage,
)
from license_service.store.daily_peaks import conversion_of, record_daily_peaks
from license_service.store.instants import utc_day, utc_instant
from license_service.store.measurement_rows import measurement_rows
from license_service.store.sampling_coverage import extend_coverage
from license_service.store.tables import (
    sample_bundled_products,
    sample_products,
    sample_services,
    samples,
)
from license_service.store.upserts import BulkInsert, bulk_insert

_SHARED: Final = ("sample_id", "cluster_id")


def _raw_rows(table: Table) -> BulkInsert:
    """The insert of a sample's usage rows into ``table``, one executemany for all."""
    return BulkInsert(
        table,
        columns=tuple(column.name for column in table.columns if column.name not in _SHARED),
        shared=_SHARED,
    )


_SAMPLE_PRODUCTS: Final = _raw_rows(sample_products)
_SAMPLE_BUNDLED_PRODUCTS: Final = _raw_rows(sample_bundled_products)
_SAMPLE_SERVICES: Final = _raw_rows(sample_services)


def record_sample(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    taken_at: datetime,
    measurement: Measurement,
    interval_seconds: int,
) -> None:
    """Store the sample of ``cluster_id`` taken at ``taken_at``, with its peaks and coverage.

    ``interval_seconds`` is the sampling interval in force. Raises ``StorageError`` for a
    naive ``taken_at``, a non-positive interval, or a sample already stored for that instant.
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
    for bulk, table_rows in (
        (_SAMPLE_PRODUCTS, rows.products),
        (_SAMPLE_BUNDLED_PRODUCTS, rows.bundled_products),
        (_SAMPLE_SERVICES, rows.services),
    ):
        bulk_insert(connection, bulk, table_rows, shared=shared)
    record_daily_peaks(
        connection, cluster_id=cluster_id, day=utc_day(instant), taken_at=instant, rows=rows
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
    products = connection.execute(
        select(sample_products).where(sample_products.c.sample_id == sample.id)
    ).all()
    bundled = connection.execute(
        select(sample_bundled_products).where(sample_bundled_products.c.sample_id == sample.id)
    ).all()
    services = connection.execute(
        select(sample_services).where(sample_services.c.sample_id == sample.id)
    ).all()
    measurement = Measurement(
        products=tuple(
            sorted(
                ProductUsage(row.product_name, row.product_id, row.metric, row.quantity)
                for row in products
            )
        ),
        bundled_products=tuple(
            sorted(
                BundledProductUsage(
                    product_name=row.product_name,
                    product_id=row.product_id,
                    cloudpak_id=row.cloudpak_id,
                    cloudpak_name=row.cloudpak_name,
                    cloudpak_version=row.cloudpak_version,
                    cloudpak_metric=row.cloudpak_metric,
                    metric=row.metric,
                    measured_quantity=row.measured_quantity,
                    conversion=conversion_of(row.conversion),
                )
                for row in bundled
            )
        ),
        services=tuple(
            sorted(
                ServiceUsage(
                    cloudpak_id=row.cloudpak_id,
                    cloudpak_metric=row.cloudpak_metric,
                    product_name=row.product_name,
                    product_id=row.product_id,
                    metric=row.metric,
                    service_name=row.service_name,
                    service_id=row.service_id,
                    value=row.value,
                )
                for row in services
            )
        ),
    )
    return StoredSample(sample.taken_at, sample.interval_seconds, measurement)
