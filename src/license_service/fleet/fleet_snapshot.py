"""The Reporter's signed snapshot (SPEC 11 ``/snapshot``): the one entry point,
``write_fleet_snapshot``.

License Service's snapshot machinery, reused whole: the daily files (``DailyFile``,
which folds the period rows on the way with the period-peak rule), the period files
(``period_csv``), the row specifications' columns and cells, the archive that
deflates on a worker thread and writes each file into the zip as soon as its turn
comes (``SnapshotArchive``), ``checksum.txt`` and the signature. So the files have
License Service's columns and bytes, and the snapshot verifies as one does: with
``sha256sum -c checksum.txt`` and ``openssl dgst -verify``.

The fleet's files (``<s>`` = ``<dateFrom>_<dateTo>_all``, ``clusterId`` ``all``) stream
from the fleet sum tables (days x keys rows, never x clusters), a key whose names
differ between clusters made one row per day (``fleet_sums.day_totals``): their period
rows are what ``/products`` and ``/bundled_products`` answer. Each cluster's files
stream from its daily peak tables, one cluster and one day of rows at a time. All is
read in one read transaction (REPEATABLE READ on PostgreSQL), so the files agree with
each other and with ``clusters.csv``. Memory holds a day of one cluster's rows, the
period rows of one file and the few files not yet in the zip: 500 clusters x 50
products x 731 days stream through. Blocking: run it in a worker thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, BinaryIO

from sqlalchemy import Connection, Table

from license_service.audit.csv_files import period_csv
from license_service.audit.daily_files import DailyFile
from license_service.audit.fleet_snapshot_names import (
    CLUSTERS_FILE,
    FLEET_SUFFIX,
    FleetSnapshotFiles,
    cluster_folders,
    fleet_snapshot_files,
)
from license_service.audit.snapshot_archive import SnapshotArchive
from license_service.audit.snapshot_names import DATA_CONDITION_FILE
from license_service.audit.snapshots import aware_generation_time
from license_service.fleet.cluster_list import CLUSTER_COLUMNS, cluster_documents, documents_csv
from license_service.fleet.fleet_store import ClusterRecord, cluster_records, reported_days
from license_service.fleet.snapshot_condition import (
    ClusterCondition,
    FleetCondition,
    fleet_condition_text,
)
from license_service.fleet.tables import FLEET_PEAK_TABLES, FLEET_SUM_TABLES
from license_service.metering.cluster_view import ClusterId
from license_service.metering.fleet_sums import day_totals
from license_service.metering.periods import DatePeriod
from license_service.metering.row_specs import RowSpec
from license_service.metering.usage_rows import BUNDLED_PRODUCT_ROWS, PRODUCT_ROWS
from license_service.signing.keys import SigningKey
from license_service.store.daily_rows import DayRows, rows_by_day
from license_service.store.database import Database

# Each kind of row of the snapshot: its row spec and the prefixes of its daily and period
# files (SPEC 11: products and bundled products; services have no file in it).
_KINDS: tuple[tuple[RowSpec[Any], str, str], ...] = (
    (PRODUCT_ROWS, "products_daily", "products"),
    (BUNDLED_PRODUCT_ROWS, "bundled_products_daily", "bundled_products"),
)


@dataclass(frozen=True, slots=True)
class FleetSnapshot:
    """What ``write_fleet_snapshot`` wrote: the files (in zip order) and their rows."""

    files: FleetSnapshotFiles
    rows: dict[str, int]
    """Each CSV file's rows, header not counted."""


def write_fleet_snapshot(
    database: Database,
    period: DatePeriod,
    *,
    signing_key: SigningKey,
    out: BinaryIO,
    version: str = "unknown",
    generated_at: datetime | None = None,
) -> FleetSnapshot:
    """Write the Reporter's signed snapshot of ``period`` into ``out``: the fleet's files,
    each cluster's, ``clusters.csv`` and ``data_condition.txt``, signed by ``signing_key``.

    ``generated_at`` (aware; default now) dates the entries and judges missing days.
    Raises ``AuditError`` for a naive ``generated_at``, ``StorageError`` when the
    database cannot be read. Blocking.
    """
    made_at = aware_generation_time(generated_at or datetime.now(UTC))
    today = made_at.date()
    with database.read() as connection:
        records = cluster_records(connection)
        documents = cluster_documents(connection, period, today=today)
        reported = reported_days(connection, period)
        folders = cluster_folders(record.cluster_id for record in records)
        files = fleet_snapshot_files(period, (folders[r.cluster_id] for r in records))
        rows: dict[str, int] = {}
        with SnapshotArchive(out, files=files, generated_at=made_at) as archive:
            for spec, daily_prefix, period_prefix in _KINDS:
                fleet_days = _fleet_days(connection, spec, period)
                _add_files(
                    archive,
                    rows,
                    spec,
                    fleet_days,
                    cluster_id=ClusterId(FLEET_SUFFIX),
                    daily_name=files.fleet_file(daily_prefix),
                    period_name=files.fleet_file(period_prefix),
                )
            for record in records:
                folder = folders[record.cluster_id]
                for spec, daily_prefix, period_prefix in _KINDS:
                    days = rows_by_day(
                        connection,
                        spec,
                        cluster_id=ClusterId(record.cluster_id),
                        period=period,
                        table=FLEET_PEAK_TABLES[spec],
                    )
                    _add_files(
                        archive,
                        rows,
                        spec,
                        days,
                        cluster_id=ClusterId(record.cluster_id),
                        daily_name=files.cluster_file(folder, daily_prefix),
                        period_name=files.cluster_file(folder, period_prefix),
                    )
            archive.add_chunks(CLUSTERS_FILE, documents_csv(documents, CLUSTER_COLUMNS))
            rows[CLUSTERS_FILE] = len(documents)
            condition = FleetCondition(
                version=version,
                generated_at=made_at,
                period=period,
                clusters=_conditions(records, documents, folders, reported),
                files={name: rows[name] for name in files.checksummed if name in rows},
                signing_key_fingerprint=signing_key.fingerprint,
            )
            archive.add_bytes(DATA_CONDITION_FILE, fleet_condition_text(condition).encode("utf-8"))
            archive.finish(signing_key)
    return FleetSnapshot(files, rows)


def _fleet_days(
    connection: Connection, spec: RowSpec[Any], period: DatePeriod
) -> Iterator[DayRows]:
    """The fleet's daily sums of ``spec``, by day: one row per key, in the API's order."""
    table: Table = FLEET_SUM_TABLES[spec]
    for day, day_rows in rows_by_day(connection, spec, cluster_id=None, period=period, table=table):
        yield day, day_totals(spec, day_rows)


def _add_files(
    archive: SnapshotArchive,
    rows: dict[str, int],
    spec: RowSpec[Any],
    days: Iterable[DayRows],
    *,
    cluster_id: ClusterId,
    daily_name: str,
    period_name: str,
) -> None:
    """Add the daily file of ``days`` and the period file its rows fold into."""
    daily: DailyFile[Any] = DailyFile(spec, cluster_id)
    archive.add_chunks(daily_name, daily.chunks(days))
    peaks = daily.period_rows()
    archive.add_chunks(period_name, period_csv(spec, peaks, cluster_id=cluster_id))
    rows[daily_name] = daily.rows
    rows[period_name] = len(peaks)


def _conditions(
    records: list[ClusterRecord],
    documents: list[dict[str, Any]],
    folders: dict[str, str],
    reported: dict[str, set[Any]],
) -> list[ClusterCondition]:
    missing = {document["clusterId"]: document["missingDays"] for document in documents}
    return [
        ClusterCondition(
            cluster_id=record.cluster_id,
            cluster_name=record.cluster_name,
            folder=folders[record.cluster_id],
            service_version=record.service_version,
            last_push_at=record.last_push_at,
            days_reported=len(reported.get(record.cluster_id, ())),
            missing_days=tuple(
                date.fromisoformat(day) for day in missing.get(record.cluster_id, [])
            ),
            key_fingerprint=record.key_fingerprint,
            pending_fingerprint=record.pending_fingerprint,
        )
        for record in records
    ]
