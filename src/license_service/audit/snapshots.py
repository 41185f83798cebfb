"""Building an audit snapshot from the store (SPEC 5): the one entry point, ``write_snapshot``.

Every file is read in one read transaction (REPEATABLE READ on PostgreSQL; one SQLite
transaction sees one state), so the period files, the daily files and the data
condition agree even while the sampler writes. The store is read once: daily rows
stream from ``store.daily_rows`` in batches into the daily files, which fold them
into the period rows on the way (``daily_files``, with ``metering.period_peaks``);
services have no daily file, their daily rows are folded alone. Period rows are small
lists; memory stays bounded for 731 days of 1,000 products. Synchronous and blocking
(the archive deflates on a worker thread of its own): callers on an event loop run it
in a thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

from license_service.audit.chargeback_files import chargeback_files
from license_service.audit.csv_files import compliance_csv, period_csv
from license_service.audit.daily_files import DailyFile, period_rows_of
from license_service.audit.data_condition import DataCondition, data_condition_text
from license_service.audit.snapshot_archive import SnapshotArchive
from license_service.audit.snapshot_context import SnapshotContext
from license_service.audit.snapshot_names import DATA_CONDITION_FILE, snapshot_files
from license_service.audit.upload_files import UploadsFile
from license_service.errors import AuditError
from license_service.metering.compliance import compliance_rows
from license_service.metering.periods import DatePeriod
from license_service.metering.row_specs import PeriodPeak, R, RowSpec
from license_service.metering.usage_rows import (
    BUNDLED_PRODUCT_ROWS,
    PRODUCT_ROWS,
    SERVICE_ROWS,
    BundledProductUsage,
    ProductUsage,
    ServiceUsage,
)
from license_service.signing.keys import SigningKey
from license_service.store.daily_rows import DayRows, rows_by_day
from license_service.store.database import Database
from license_service.store.instants import start_of_day
from license_service.store.sampling_gaps import gaps, sampling_summary
from license_service.store.settings_history import settings_history

__all__ = ["SnapshotContext", "write_snapshot"]


def write_snapshot(
    database: Database,
    *,
    context: SnapshotContext,
    period: DatePeriod,
    signing_key: SigningKey,
    out: BinaryIO,
) -> None:
    """Write the signed snapshot zip of ``context.cluster_id`` over ``period`` into ``out``.

    Raises ``AuditError`` (cluster id unfit for file names, naive ``generated_at``) before
    anything is written, and ``StorageError`` when the store cannot be read.
    """
    generated_at = aware_generation_time(context.generated_at)
    cluster_id = context.cluster_id
    files = snapshot_files(cluster_id, period, chargeback=context.chargeback)
    window_start = start_of_day(period.first)
    window_end = max(window_start, min(start_of_day(period.last) + timedelta(days=1), generated_at))
    with (
        database.read() as connection,
        SnapshotArchive(out, files=files, generated_at=generated_at) as archive,
    ):

        def daily_rows(rows: RowSpec[Any]) -> Iterator[DayRows]:
            return rows_by_day(connection, rows, cluster_id=cluster_id, period=period)

        def daily_file(name: str, rows: RowSpec[R]) -> DailyFile[R]:
            """The daily file of ``rows``, added to the archive as ``name``."""
            daily = DailyFile(rows, cluster_id)
            archive.add_chunks(name, daily.chunks(daily_rows(rows)))
            return daily

        products_daily = daily_file(files.products_daily, PRODUCT_ROWS)
        products = products_daily.period_rows()
        bundled_daily = daily_file(files.bundled_products_daily, BUNDLED_PRODUCT_ROWS)
        bundled = bundled_daily.period_rows()
        services = period_rows_of(SERVICE_ROWS, daily_rows(SERVICE_ROWS))
        archive.add_chunks(
            files.products, period_csv(PRODUCT_ROWS, products, cluster_id=cluster_id)
        )
        archive.add_chunks(
            files.bundled_products, period_csv(BUNDLED_PRODUCT_ROWS, bundled, cluster_id=cluster_id)
        )
        archive.add_chunks(
            files.services, period_csv(SERVICE_ROWS, services, cluster_id=cluster_id)
        )
        compliance = compliance_rows(products, context.entitlements, period=period)
        archive.add_chunks(files.compliance, compliance_csv(compliance, cluster_id=cluster_id))
        group_files = (
            chargeback_files(archive, files, daily_rows, cluster_id=cluster_id)
            if context.chargeback
            else {}
        )
        uploads = UploadsFile(connection, cluster_id=cluster_id, period=period)
        archive.add_chunks(files.uploads, uploads.chunks())
        condition = DataCondition(
            context=context,
            period=period,
            window_start=window_start,
            window_end=window_end,
            metrics=_metrics(products, bundled, services),
            sampling=sampling_summary(
                connection, cluster_id=cluster_id, start=window_start, end=window_end
            ),
            gaps=tuple(gaps(connection, cluster_id=cluster_id, start=window_start, end=window_end)),
            settings=tuple(settings_history(connection, cluster_id=cluster_id, until=window_end)),
            files={
                files.products: len(products),
                files.products_daily: products_daily.rows,
                files.bundled_products: len(bundled),
                files.bundled_products_daily: bundled_daily.rows,
                files.services: len(services),
                files.compliance: len(compliance),
                **group_files,
                files.uploads: uploads.rows,
            },
            signing_key_fingerprint=signing_key.fingerprint,
        )
        archive.add_bytes(DATA_CONDITION_FILE, data_condition_text(condition).encode("utf-8"))
        archive.finish(signing_key)


def aware_generation_time(generated_at: datetime) -> datetime:
    """``generated_at`` in UTC; ``AuditError`` saying how to fix it when it has no time zone."""
    if generated_at.tzinfo is None or generated_at.utcoffset() is None:
        raise AuditError(
            f"snapshot generation time {generated_at.isoformat()} has no time zone: pass an "
            "aware datetime, e.g. datetime.now(UTC)"
        )
    return generated_at.astimezone(UTC)


def _metrics(
    products: list[PeriodPeak[ProductUsage]],
    bundled: list[PeriodPeak[BundledProductUsage]],
    services: list[PeriodPeak[ServiceUsage]],
) -> tuple[str, ...]:
    """Every metric name that occurs in the period's rows, sorted."""
    found = {peak.row.metric for peak in products}
    found |= {metric for peak in bundled for metric in (peak.row.metric, peak.row.cloudpak_metric)}
    found |= {metric for peak in services for metric in (peak.row.metric, peak.row.cloudpak_metric)}
    return tuple(sorted(found))
