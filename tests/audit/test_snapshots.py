"""``write_snapshot`` builds the SPEC 5 zip from the store: golden files, determinism, streaming."""

from __future__ import annotations

import dataclasses
import io
import os
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection

from license_service.audit import snapshot_archive, snapshots
from license_service.audit.deflated_files import DeflatedFile
from license_service.audit.snapshots import write_snapshot
from license_service.errors import AuditError
from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.metering.row_specs import RowSpec
from license_service.metering.usage_rows import PRODUCT_ROWS
from license_service.signing.keys import SigningKey
from license_service.store.daily_rows import DayRows
from license_service.store.database import Database, sqlite_url
from tests.audit.conftest import GOLDEN_DIR, entries, snapshot_bytes
from tests.audit.file_columns import (
    BUNDLED_PRODUCTS_COLUMNS,
    BUNDLED_PRODUCTS_DAILY_COLUMNS,
    COMPLIANCE_COLUMNS,
    PRODUCTS_COLUMNS,
    PRODUCTS_DAILY_COLUMNS,
    SERVICES_COLUMNS,
    UPLOADS_COLUMNS,
)
from tests.audit.snapshot_data import (
    CLUSTER,
    CONTEXT,
    MISSED_REASON,
    PERIOD,
    store_golden_dataset,
)
from tests.store.conftest import fresh_postgres_schema, postgres_url_or_skip
from tests.store.sample_builders import at, day, product, store

UPDATE_GOLDEN = os.environ.get("LICENSE_SERVICE_UPDATE_GOLDEN") == "1"
SUFFIX = "2026-11-01_2026-11-03_cluster-a"
CSV_NAMES = [
    f"products_{SUFFIX}.csv",
    f"products_daily_{SUFFIX}.csv",
    f"bundled_products_{SUFFIX}.csv",
    f"bundled_products_daily_{SUFFIX}.csv",
    f"services_{SUFFIX}.csv",
    f"compliance_{SUFFIX}.csv",
    f"uploads_{SUFFIX}.csv",
]
# The auditor's signature check, run in the directory the snapshot was extracted to.
OPENSSL_VERIFY = [
    "openssl",
    "dgst",
    "-sha256",
    "-verify",
    "pub_key.pem",
    "-signature",
    "signature.rsa",
    "checksum.txt",
]
EVERY_NAME = [*CSV_NAMES, "data_condition.txt", "checksum.txt", "signature.rsa", "pub_key.pem"]


def test_the_snapshot_holds_exactly_the_spec_files_in_order(golden_zip: Path) -> None:
    with zipfile.ZipFile(golden_zip) as archive:
        assert archive.namelist() == EVERY_NAME


@pytest.mark.parametrize("name", EVERY_NAME)
def test_every_file_matches_its_golden_file(golden_snapshot: bytes, name: str) -> None:
    """Set LICENSE_SERVICE_UPDATE_GOLDEN=1 to rewrite the golden files after a wanted change."""
    produced = entries(golden_snapshot)[name]
    golden = GOLDEN_DIR / name
    if UPDATE_GOLDEN:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(produced)
    assert produced == golden.read_bytes()


def test_csv_files_have_the_spec_columns_crlf_line_ends_and_utf8(golden_zip: Path) -> None:
    columns = [
        PRODUCTS_COLUMNS,
        PRODUCTS_DAILY_COLUMNS,
        BUNDLED_PRODUCTS_COLUMNS,
        BUNDLED_PRODUCTS_DAILY_COLUMNS,
        SERVICES_COLUMNS,
        COMPLIANCE_COLUMNS,
        UPLOADS_COLUMNS,
    ]
    with zipfile.ZipFile(golden_zip) as archive:
        for name, expected in zip(CSV_NAMES, columns, strict=True):
            text = archive.read(name).decode("utf-8")
            assert text.split("\r\n")[0] == ",".join(expected)
            assert text.endswith("\r\n")
            assert "\n" not in text.replace("\r\n", "")
    assert PRODUCTS_COLUMNS[-1] == SERVICES_COLUMNS[-1] == "clusterId"


def test_the_same_data_gives_byte_identical_csv_files(
    golden_db: Database, signing_key: SigningKey, tmp_path: Path
) -> None:
    second = Database.open(sqlite_url(tmp_path / "second.db"))
    try:
        store_golden_dataset(second)
        first_files = entries(snapshot_bytes(golden_db, signing_key))
        later = dataclasses.replace(CONTEXT, generated_at=CONTEXT.generated_at + timedelta(hours=5))
        out = io.BytesIO()
        write_snapshot(second, context=later, period=PERIOD, signing_key=signing_key, out=out)
        second_files = entries(out.getvalue())
    finally:
        second.dispose()
    for name in CSV_NAMES:
        assert first_files[name] == second_files[name], name
    # Only the generation time differs, and data_condition.txt says so.
    assert first_files["data_condition.txt"] != second_files["data_condition.txt"]


@pytest.mark.postgres
def test_postgresql_gives_the_same_files_as_sqlite(
    golden_snapshot: bytes, signing_key: SigningKey
) -> None:
    with fresh_postgres_schema(postgres_url_or_skip()) as url:
        database = Database.open(url)
        try:
            store_golden_dataset(database)
            produced = entries(snapshot_bytes(database, signing_key))
        finally:
            database.dispose()
    assert produced == entries(golden_snapshot)


def test_an_empty_period_gives_header_only_csv_files(
    golden_db: Database, signing_key: SigningKey
) -> None:
    quiet = DatePeriod(day("2026-10-01"), day("2026-10-05"))
    out = io.BytesIO()
    write_snapshot(golden_db, context=CONTEXT, period=quiet, signing_key=signing_key, out=out)
    files = entries(out.getvalue())
    suffix = "2026-10-01_2026-10-05_cluster-a"
    expected = {
        f"products_{suffix}.csv": PRODUCTS_COLUMNS,
        f"products_daily_{suffix}.csv": PRODUCTS_DAILY_COLUMNS,
        f"bundled_products_{suffix}.csv": BUNDLED_PRODUCTS_COLUMNS,
        f"bundled_products_daily_{suffix}.csv": BUNDLED_PRODUCTS_DAILY_COLUMNS,
        f"services_{suffix}.csv": SERVICES_COLUMNS,
        f"uploads_{suffix}.csv": UPLOADS_COLUMNS,
    }
    for name, columns in expected.items():
        assert files[name] == (",".join(columns) + "\r\n").encode(), name
    assert "Metrics present:       none" in files["data_condition.txt"].decode()


def test_an_empty_store_still_gives_a_complete_signed_snapshot(
    db: Database, signing_key: SigningKey
) -> None:
    files = entries(snapshot_bytes(db, signing_key))
    assert list(files) == EVERY_NAME
    condition = files["data_condition.txt"].decode()
    assert "Interval:              none: the cluster was never sampled" in condition
    assert "none recorded: no sample was taken" in condition


def test_rows_of_another_cluster_stay_out_of_the_snapshot(
    golden_db: Database, signing_key: SigningKey
) -> None:
    store(golden_db, at("2026-11-01", "11:00"), product("other", 9), cluster_id=ClusterId("b"))
    files = entries(snapshot_bytes(golden_db, signing_key))
    assert files[CSV_NAMES[0]] == (GOLDEN_DIR / CSV_NAMES[0]).read_bytes()
    assert b"other" not in files[CSV_NAMES[1]]


def test_data_condition_lists_every_gap_with_its_reason(golden_zip: Path) -> None:
    with zipfile.ZipFile(golden_zip) as archive:
        text = archive.read("data_condition.txt").decode()
    assert "Gaps:                  3" in text
    assert (
        "2026-11-02T09:55:00Z to 2026-11-02T10:20:00Z (25 min, 4 missed): " + MISSED_REASON
    ) in text
    # Before the first sample (2026-11-01 10:00) nothing was due: no gap, nothing expected.
    assert "Sampling began:        2026-11-01T10:00:00Z (no sample is expected before it)" in text
    assert "2026-11-01T00:00:00Z to 2026-11-01T10:00:00Z" not in text
    assert "2026-11-02T10:20:00Z to 2026-11-04T00:00:00Z (1 d 13 h 40 min, 451 missed)" in text
    # Taken + the instants the gaps missed (284 + 4 + 451) = expected.
    assert "Samples taken:         5 of 744 expected (0.6 %)" in text
    assert "Samples missed:        739 (sampling instants without a sample;" in text
    assert "Hyper-threading:       threadsPerCore 2, since 2026-11-02T12:00:00Z" in text


def test_data_condition_and_pub_key_carry_the_signing_keys_fingerprint(
    golden_zip: Path, signing_key: SigningKey
) -> None:
    with zipfile.ZipFile(golden_zip) as archive:
        assert signing_key.fingerprint in archive.read("data_condition.txt").decode()
        assert archive.read("pub_key.pem") == signing_key.public_pem()


def test_extracted_files_are_readable_and_dated_at_generation(golden_zip: Path) -> None:
    with zipfile.ZipFile(golden_zip) as archive:
        for info in archive.infolist():
            assert info.external_attr >> 16 == 0o100644
            assert info.date_time == (2026, 11, 4, 8, 0, 0)


def test_the_snapshot_verifies_with_the_real_sha256sum_and_openssl(
    golden_zip: Path, tmp_path: Path
) -> None:
    missing = [tool for tool in ("sha256sum", "openssl") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed: cannot run the auditor's commands")
    extracted = tmp_path / "extracted"
    with zipfile.ZipFile(golden_zip) as archive:
        archive.extractall(extracted)
    checked = subprocess.run(
        ["sha256sum", "--strict", "-c", "checksum.txt"],
        cwd=extracted,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count(": OK") == 8
    verified = subprocess.run(
        OPENSSL_VERIFY,
        cwd=extracted,
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.strip() == "Verified OK"


def test_openssl_rejects_the_signature_once_checksum_txt_changes(
    golden_zip: Path, tmp_path: Path
) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed: cannot run the auditor's command")
    extracted = tmp_path / "extracted"
    with zipfile.ZipFile(golden_zip) as archive:
        archive.extractall(extracted)
    checksums = extracted / "checksum.txt"
    checksums.write_bytes(checksums.read_bytes().replace(b"0", b"1", 1))
    verified = subprocess.run(
        OPENSSL_VERIFY,
        cwd=extracted,
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 1
    assert "Verification failure" in verified.stdout + verified.stderr


def test_daily_rows_stream_into_the_zip_without_being_gathered_first(
    db: Database, signing_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Half the rows pulled: most of their bytes must be deflated already, not gathered."""
    rows, day_rows = 60_000, 1_000
    pulled = 0
    deflated = 0
    write = DeflatedFile.write

    def counted_write(self: DeflatedFile, data: bytes) -> None:
        nonlocal deflated
        deflated += len(data)
        write(self, data)

    every_kind = snapshots.rows_by_day

    def streamed_days(
        connection: Connection, kind: RowSpec[Any], **filters: Any
    ) -> Iterator[DayRows]:
        nonlocal pulled
        if kind is not PRODUCT_ROWS:
            yield from every_kind(connection, kind, **filters)
            return
        start = day("2025-01-01")
        for first in range(0, rows, day_rows):
            if first == rows // 2:
                # ~2 MB of lines made by now; at most 5 chunks of 64 KiB wait for the worker.
                assert deflated > 1_500_000, "daily rows were gathered first"
            pulled += day_rows
            yield (
                (start + timedelta(days=first // day_rows)).isoformat(),
                [
                    (
                        f"Product {index:04d}",
                        f"id-{index:04d}",
                        "VIRTUAL_PROCESSOR_CORE",
                        first % 97,
                    )
                    for index in range(day_rows)
                ],
            )

    monkeypatch.setattr(snapshot_archive, "WRITE_BUFFER_BYTES", 64 * 1024)
    monkeypatch.setattr(snapshot_archive, "MAX_PENDING_CHUNKS", 4)
    monkeypatch.setattr(DeflatedFile, "write", counted_write)
    monkeypatch.setattr(snapshots, "rows_by_day", streamed_days)
    long_period = DatePeriod(day("2025-01-01"), day("2025-03-01"))
    out = io.BytesIO()
    write_snapshot(db, context=CONTEXT, period=long_period, signing_key=signing_key, out=out)
    assert pulled == rows
    with zipfile.ZipFile(out) as archive:
        daily = archive.getinfo("products_daily_2025-01-01_2025-03-01_cluster-a.csv")
        assert daily.file_size > 3_000_000
        products = archive.read("products_2025-01-01_2025-03-01_cluster-a.csv")
    # The period file was folded from the same rows: one row per product id.
    assert products.count(b"\r\n") == 1 + 1_000


def test_a_cluster_id_unfit_for_file_names_is_refused_before_anything_is_written(
    db: Database, signing_key: SigningKey
) -> None:
    out = io.BytesIO()
    context = dataclasses.replace(CONTEXT, cluster_id=ClusterId("../etc/passwd"))
    with pytest.raises(AuditError, match=r"'\.\./etc/passwd' cannot be part of snapshot file"):
        write_snapshot(db, context=context, period=PERIOD, signing_key=signing_key, out=out)
    assert out.getvalue() == b""


def test_a_generation_time_without_time_zone_is_refused(
    db: Database, signing_key: SigningKey
) -> None:
    context = dataclasses.replace(CONTEXT, generated_at=datetime(2026, 11, 4, 8, 0))
    with pytest.raises(AuditError, match="has no time zone"):
        write_snapshot(
            db, context=context, period=PERIOD, signing_key=signing_key, out=io.BytesIO()
        )


def test_a_period_still_running_is_judged_up_to_the_generation_time(
    golden_db: Database, signing_key: SigningKey
) -> None:
    context = dataclasses.replace(CONTEXT, generated_at=at("2026-11-03", "06:00"))
    out = io.BytesIO()
    write_snapshot(golden_db, context=context, period=PERIOD, signing_key=signing_key, out=out)
    text = entries(out.getvalue())["data_condition.txt"].decode()
    assert "2026-11-01T00:00:00Z to 2026-11-03T06:00:00Z" in text
    assert "the period's last day had not ended" in text
    assert CLUSTER in text
