"""Importing a License Service audit snapshot into the Reporter (SPEC 11, offline clusters).

The zip is verified as an auditor would (``audit.verification``: every checksum, the
signature by ``pub_key.pem``); any finding refuses it, named. Its cluster id and period
come from its file names, its name and version from ``data_condition.txt``, its days
from ``products_daily_<s>.csv`` and ``bundled_products_daily_<s>.csv``, read back
through the row specs (the daily file's columns; a bundled product's Cloud Pak name and
version, not in the daily file, from ``bundled_products_<s>.csv``), its uploads from
``uploads_<s>.csv`` (each with the day its value belongs to). Every day of the
period up to the day the snapshot was made counts as reported (a day without rows had
no usage), that day itself as incomplete. Services have no daily file: they are not
imported. The key rule is the push's: ``fleet_store.store_days`` pins or refuses.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import msgspec

from license_service.audit.csv_files import daily_columns
from license_service.audit.fleet_snapshot_names import fleet_files_in
from license_service.audit.snapshot_names import (
    DATA_CONDITION_FILE,
    PUBLIC_KEY_FILE,
    SnapshotFiles,
    suffix_of_csv_name,
)
from license_service.audit.verification import verify_snapshot
from license_service.errors import SnapshotVerificationError
from license_service.fleet.fleet_store import KeyRefusal, StoredDays, store_days
from license_service.fleet.push_format import ClusterIdentity, PushDay, PushUpload
from license_service.formats.csv_lines import runs_as_formula
from license_service.metering.periods import DatePeriod
from license_service.metering.row_specs import PEAK_DATE, RowSpec
from license_service.metering.usage_rows import BUNDLED_PRODUCT_ROWS, PRODUCT_ROWS
from license_service.store.database import Database

_DATES_LENGTH: Final = len("2026-01-01_2026-01-31_")


@dataclass(frozen=True, slots=True)
class ImportedSnapshot:
    """A verified snapshot's cluster, days and signing key."""

    cluster: ClusterIdentity
    period: DatePeriod
    days: tuple[PushDay, ...]
    fingerprint: str
    public_key_pem: str


def read_snapshot(path: Path) -> ImportedSnapshot:
    """Verify the snapshot at ``path`` and read its days; ``SnapshotVerificationError``
    naming every finding (a tampered file, a bad signature) or an unreadable file."""
    report = verify_snapshot(path)
    if not report.ok or report.key_fingerprint is None:
        findings = "; ".join(str(finding) for finding in report.findings)
        raise SnapshotVerificationError(
            f"the snapshot does not verify, so nothing was imported: {findings}"
        )
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if fleet_files_in(names) is not None:
            # Its files are sums over clusters already in a Reporter: as one cluster's days
            # they would count those clusters twice.
            raise SnapshotVerificationError(
                "this is a Reporter's snapshot (sums over many clusters), not a cluster's: "
                "import the License Service audit snapshot of the offline cluster "
                "(GET /snapshot of that cluster, or `license-service snapshot create` there)"
            )
        suffix = next((s for s in map(suffix_of_csv_name, names) if s is not None), None)
        if suffix is None:
            raise SnapshotVerificationError(
                "the snapshot holds no products_<dateFrom>_<dateTo>_<clusterId>.csv: give a "
                "License Service audit snapshot"
            )
        files = SnapshotFiles(suffix)
        period = DatePeriod(date.fromisoformat(suffix[:10]), date.fromisoformat(suffix[11:21]))
        cluster_id = suffix[_DATES_LENGTH:]
        condition = _fields(archive.read(DATA_CONDITION_FILE).decode("utf-8"))
        public_key_pem = archive.read(PUBLIC_KEY_FILE).decode("ascii")
        products = _daily_rows(archive, files.products_daily, PRODUCT_ROWS, {})
        names_of = _period_names(archive, files.bundled_products, BUNDLED_PRODUCT_ROWS)
        bundled = _daily_rows(archive, files.bundled_products_daily, BUNDLED_PRODUCT_ROWS, names_of)
        uploads = _uploads(archive, files.uploads)
    generated = _generated_day(condition.get("Generated at", ""))
    last = min(period.last, generated) if generated else period.last
    days = []
    day = period.first
    while day <= last:
        days.append(
            PushDay(
                date=day,
                complete=generated is None or day < generated,
                products=tuple(products.get(day, ())),
                bundled_products=tuple(bundled.get(day, ())),
                uploads=tuple(uploads.get(day, ())),
            )
        )
        day += timedelta(days=1)
    name = condition.get("Cluster name", "")
    return ImportedSnapshot(
        cluster=ClusterIdentity(
            cluster_id=cluster_id,
            cluster_name=cluster_id if name in ("", "(not known)") else name,
            service_version=condition.get("Service version", "unknown"),
        ),
        period=period,
        days=tuple(days),
        fingerprint=report.key_fingerprint,
        public_key_pem=public_key_pem,
    )


def _fields(text: str) -> dict[str, str]:
    """The ``Label: value`` lines of ``data_condition.txt`` (first occurrence of each)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        label, colon, value = line.partition(":")
        if colon and not line.startswith(" ") and label not in found:
            found[label.strip()] = value.strip()
    return found


def _generated_day(text: str) -> date | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _csv_rows(archive: zipfile.ZipFile, name: str) -> Iterator[dict[str, str]]:
    """The rows of the CSV file ``name`` (absent: none), formula guards taken off."""
    if name not in archive.namelist():
        return
    with archive.open(name) as raw:
        for row in csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline="")):
            yield {key: _unguarded(value) for key, value in row.items()}


def _unguarded(cell: str) -> str:
    # The snapshot wrote "'" before a text that a spreadsheet would run as a formula.
    return cell[1:] if cell.startswith("'") and runs_as_formula(cell[1:]) else cell


def _document(rows: RowSpec[Any], cells: Mapping[str, str], where: str) -> dict[str, Any]:
    """The JSON row (``RowSpec.from_json``'s input) of a CSV row's stored columns present."""
    document: dict[str, Any] = {}
    for column in rows.stored:
        if column.api_name not in cells:
            continue
        text = cells[column.api_name]
        if column.encoding.stored_as == "integer":
            try:
                document[column.api_name] = int(text)
            except ValueError:
                raise SnapshotVerificationError(
                    f"{where}: {column.api_name} {text!r} is not a whole number"
                ) from None
        else:
            document[column.api_name] = text
    return document


def _period_names(
    archive: zipfile.ZipFile, name: str, rows: RowSpec[Any]
) -> dict[Any, dict[str, Any]]:
    """Per row key, the columns a daily file leaves out, from the period file ``name``."""
    left_out = [c for c in rows.stored if not c.in_daily_file and c is not PEAK_DATE]
    found: dict[Any, dict[str, Any]] = {}
    for number, cells in enumerate(_csv_rows(archive, name), start=2):
        document = _document(rows, cells, f"{name} line {number}")
        full = _row(rows, document, f"{name} line {number}")
        found[rows.key_of(full)] = {c.api_name: document[c.api_name] for c in left_out}
    return found


def _daily_rows(
    archive: zipfile.ZipFile,
    name: str,
    rows: RowSpec[Any],
    names_of: Mapping[Any, Mapping[str, Any]],
) -> dict[date, list[Any]]:
    """The rows of the daily file ``name``, by day."""
    header = daily_columns(rows)
    left_out = {c.api_name: "" for c in rows.stored if not c.in_daily_file}
    by_day: dict[date, list[Any]] = {}
    for number, cells in enumerate(_csv_rows(archive, name), start=2):
        where = f"{name} line {number}"
        if set(cells) != set(header):
            raise SnapshotVerificationError(f"{where}: the columns are not {list(header)}")
        document = {**left_out, **_document(rows, cells, where)}
        row = _row(rows, document, where)
        names = names_of.get(rows.key_of(row))
        if names:
            row = _row(rows, {**document, **names}, where)
        by_day.setdefault(date.fromisoformat(cells[header[0]]), []).append(row)
    return by_day


def _uploads(archive: zipfile.ZipFile, name: str) -> dict[date, list[PushUpload]]:
    """The accepted uploads of ``uploads_<s>.csv`` (absent in older snapshots), by day."""
    by_day: dict[date, list[PushUpload]] = {}
    for number, cells in enumerate(_csv_rows(archive, name), start=2):
        cells.pop("clusterId", None)
        try:
            upload = msgspec.convert(cells, PushUpload, strict=False)
        except msgspec.ValidationError as exc:
            raise SnapshotVerificationError(f"{name} line {number}: {exc}") from None
        by_day.setdefault(upload.date, []).append(upload)
    return by_day


def _row(rows: RowSpec[Any], document: dict[str, Any], where: str) -> Any:
    try:
        return rows.from_json(document)
    except ValueError as exc:
        raise SnapshotVerificationError(f"{where}: {exc}") from None


def import_snapshot(database: Database, path: Path, *, now: datetime) -> StoredDays | KeyRefusal:
    """Verify the snapshot at ``path`` and keep its days as its cluster's (the key rule of a
    push); ``SnapshotVerificationError`` when it does not verify or cannot be read."""
    imported = read_snapshot(path)
    with database.begin() as connection:
        return store_days(
            connection,
            imported.cluster,
            imported.days,
            fingerprint=imported.fingerprint,
            public_key_pem=imported.public_key_pem,
            now=now,
            source="snapshot import",
        )
