"""Importing an audit snapshot (SPEC 11): verified, read back into the cluster's own numbers."""

from __future__ import annotations

import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from license_service.errors import SnapshotVerificationError
from license_service.fleet.fleet_store import KeyRefusal, StoredDays, store_days
from license_service.fleet.snapshot_import import read_snapshot
from license_service.metering.fleet_sums import fleet_peaks
from license_service.metering.uploads import AggregationPolicy, Submission
from license_service.metering.usage_rows import BUNDLED_PRODUCT_ROWS, PRODUCT_ROWS
from license_service.signing.keys import SigningKey
from license_service.store.database import Database, sqlite_url
from license_service.store.period_peaks import period_peaks
from license_service.store.uploads import record_uploads
from tests.audit.conftest import TEST_KEY_FILE, snapshot_bytes
from tests.audit.snapshot_data import CLUSTER, PERIOD, store_golden_dataset
from tests.store.sample_builders import at, product, store


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The golden dataset's snapshot file, and the cluster's own period rows."""
    directory = tmp_path_factory.mktemp("golden")
    database = Database.open(sqlite_url(directory / "license-service.db"))
    try:
        store_golden_dataset(database)
        path = directory / "snapshot.zip"
        path.write_bytes(snapshot_bytes(database, SigningKey.from_pem(TEST_KEY_FILE.read_bytes())))
        with database.read() as connection:
            own = {
                spec: period_peaks(connection, spec, cluster_id=CLUSTER, period=PERIOD)
                for spec in (PRODUCT_ROWS, BUNDLED_PRODUCT_ROWS)
            }
    finally:
        database.dispose()
    return path, own


def test_an_imported_snapshot_gives_the_clusters_own_period_rows(golden: tuple[Path, dict]) -> None:
    path, own = golden
    imported = read_snapshot(path)
    assert imported.cluster.cluster_id == CLUSTER
    assert imported.cluster.cluster_name == "Production, Frankfurt"
    assert imported.period == PERIOD
    assert [day.date for day in imported.days] == list(PERIOD)
    assert all(day.complete for day in imported.days)
    assert imported.fingerprint == SigningKey.from_pem(TEST_KEY_FILE.read_bytes()).fingerprint
    for spec, attribute in ((PRODUCT_ROWS, "products"), (BUNDLED_PRODUCT_ROWS, "bundled_products")):
        days = {day.date: getattr(day, attribute) for day in imported.days}
        assert fleet_peaks(spec, [days]) == own[spec]
        assert own[spec]  # the golden data has rows of both kinds


def test_a_tampered_snapshot_is_refused_with_the_finding(
    golden: tuple[Path, dict], tmp_path: Path
) -> None:
    path, _ = golden
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(tampered, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("products_daily_"):
                data = data.replace(b",6,", b",1,")
            target.writestr(item, data)
    with pytest.raises(SnapshotVerificationError, match=r"products_daily_.*does not match"):
        read_snapshot(tampered)


def test_an_import_follows_the_key_rule(fleet_db: Database, golden: tuple[Path, dict]) -> None:
    imported = read_snapshot(golden[0])
    now = datetime(2026, 12, 6, tzinfo=UTC)

    def keep(fingerprint: str) -> StoredDays | KeyRefusal:
        with fleet_db.begin() as connection:
            return store_days(
                connection,
                imported.cluster,
                imported.days,
                fingerprint=fingerprint,
                public_key_pem=imported.public_key_pem,
                now=now,
                source="snapshot import",
            )

    assert keep(imported.fingerprint) == StoredDays(CLUSTER, 3, PERIOD.last)
    assert isinstance(keep("SHA256:other"), KeyRefusal)


def test_a_snapshots_uploads_come_with_their_days(tmp_path: Path) -> None:
    database = Database.open(sqlite_url(tmp_path / "license-service.db"))
    try:
        store(database, at("2026-11-02", "10:00"), product("mq", 4))
        with database.begin() as connection:
            record_uploads(
                connection,
                cluster_id=CLUSTER,
                received_at=at("2026-11-03", "08:30"),
                submissions=[
                    Submission(
                        date(2026, 11, 2),
                        "api",
                        "=API calls",
                        "API_CALLS",
                        Decimal("0.5"),
                        AggregationPolicy.ADD,
                        submission_id="s-1",
                    ),
                ],
            )
        path = tmp_path / "snapshot.zip"
        path.write_bytes(snapshot_bytes(database, SigningKey.from_pem(TEST_KEY_FILE.read_bytes())))
    finally:
        database.dispose()
    imported = read_snapshot(path)
    [day] = [d for d in imported.days if d.uploads]
    [upload] = day.uploads
    assert day.date == date(2026, 11, 2)
    assert (upload.product_name, upload.metric_value, upload.submission_id) == (
        "=API calls",
        Decimal("0.5"),
        "s-1",
    )
    assert upload.received_at == at("2026-11-03", "08:30")
