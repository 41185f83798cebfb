"""The Reporter's snapshot (SPEC 11) on SQLite and PostgreSQL: the fleet's files are the
fleet's reports, each cluster's files are what it sent, and it verifies as a License
Service snapshot does."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from license_service.audit.csv_files import period_csv
from license_service.audit.fleet_snapshot_names import cluster_folders
from license_service.audit.verification import verify_snapshot
from license_service.errors import SnapshotVerificationError
from license_service.fleet.fleet_snapshot import write_fleet_snapshot
from license_service.fleet.fleet_store import fleet_daily_sums, store_days
from license_service.fleet.push_format import ClusterIdentity, PushDay
from license_service.fleet.snapshot_import import import_snapshot, read_snapshot
from license_service.metering.cluster_view import ClusterId
from license_service.metering.fleet_sums import fleet_peaks
from license_service.metering.periods import DatePeriod
from license_service.metering.usage_rows import BUNDLED_PRODUCT_ROWS, PRODUCT_ROWS, ProductUsage
from license_service.signing.keys import SigningKey
from license_service.store.database import Database, sqlite_url
from tests.audit.conftest import TEST_KEY_FILE, snapshot_bytes
from tests.audit.snapshot_data import CLUSTER, store_golden_dataset
from tests.fleet.pushes import cluster_key, day_of, days_from

NOW = datetime(2026, 12, 8, 12, tzinfo=UTC)
PERIOD = DatePeriod(date(2026, 12, 1), date(2026, 12, 8))
FILES = "2026-12-01_2026-12-08"


@pytest.fixture(scope="module")
def reporter_key() -> SigningKey:
    return SigningKey.from_pem(TEST_KEY_FILE.read_bytes())


def keep(database: Database, cluster_id: str, days: list[PushDay], *, name: str = "") -> None:
    key = cluster_key(cluster_id)
    with database.begin() as connection:
        store_days(
            connection,
            ClusterIdentity(cluster_id, name or f"name of {cluster_id}", "9.9.9"),
            days,
            fingerprint=key.fingerprint,
            public_key_pem=key.public_pem().decode(),
            now=NOW,
            source="push",
        )


def snapshot(database: Database, key: SigningKey, tmp_path: Path) -> Path:
    path = tmp_path / "fleet.zip"
    with path.open("wb") as out:
        write_fleet_snapshot(
            database, PERIOD, signing_key=key, out=out, version="1.2.3", generated_at=NOW
        )
    return path


def files_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def fleet_file_bytes(database: Database, spec: Any) -> bytes:
    """The period file the fleet's report rows (``/products``' numbers) make."""
    with database.read() as connection:
        peaks = fleet_peaks(spec, [fleet_daily_sums(connection, spec, PERIOD)])
    return b"".join(period_csv(spec, peaks, cluster_id=ClusterId("all")))


def test_the_fleets_files_are_its_reports_and_each_clusters_files_its_own_days(
    fleet_db: Database, reporter_key: SigningKey, tmp_path: Path
) -> None:
    # a peaks on day 1 (5), b on day 2 (6): the fleet's highest daily sum is day 2's 2 + 6.
    keep(
        fleet_db,
        "a",
        [day_of(date(2026, 12, 1), quantity=5), day_of(date(2026, 12, 2), quantity=2)],
    )
    keep(
        fleet_db,
        "b",
        [day_of(date(2026, 12, 1), quantity=1), day_of(date(2026, 12, 2), quantity=6)],
    )
    files = files_of(snapshot(fleet_db, reporter_key, tmp_path))

    for spec, prefix in ((PRODUCT_ROWS, "products"), (BUNDLED_PRODUCT_ROWS, "bundled_products")):
        assert files[f"{prefix}_{FILES}_all.csv"] == fleet_file_bytes(fleet_db, spec)
    products = list(csv.DictReader(io.StringIO(files[f"products_{FILES}_all.csv"].decode())))
    [mq] = [row for row in products if row["id"] == "mq-1"]
    assert (mq["metricQuantity"], mq["metricPeakDate"], mq["clusterId"]) == (
        "8",
        "2026-12-02",
        "all",
    )
    daily = files[f"products_daily_{FILES}_all.csv"].decode().splitlines()
    assert daily[0] == "date,name,id,metricName,metricQuantity,clusterId"
    assert "2026-12-01,IBM MQ,mq-1,VIRTUAL_PROCESSOR_CORE,6,all" in daily
    assert "2026-12-02,IBM MQ,mq-1,VIRTUAL_PROCESSOR_CORE,8,all" in daily

    a_daily = files[f"clusters/a/products_daily_{FILES}_a.csv"].decode().splitlines()
    assert a_daily == [
        "date,name,id,metricName,metricQuantity,clusterId",
        "2026-12-01,Cloud Pak for Integration,cp4i,VIRTUAL_PROCESSOR_CORE,2,a",
        "2026-12-01,IBM MQ,mq-1,VIRTUAL_PROCESSOR_CORE,5,a",
        "2026-12-02,Cloud Pak for Integration,cp4i,VIRTUAL_PROCESSOR_CORE,2,a",
        "2026-12-02,IBM MQ,mq-1,VIRTUAL_PROCESSOR_CORE,2,a",
    ]
    assert (
        b"IBM MQ,mq-1,VIRTUAL_PROCESSOR_CORE,2026-12-02,6,b"
        in files[f"clusters/b/products_{FILES}_b.csv"]
    )
    bundled_a = files[f"clusters/a/bundled_products_daily_{FILES}_a.csv"].decode().splitlines()
    vpc = "VIRTUAL_PROCESSOR_CORE"
    assert bundled_a[1] == f"2026-12-01,App Connect,ace-1,cp4i,{vpc},{vpc},3,3:2,2,a"


def test_a_clusters_files_are_byte_for_byte_those_of_its_own_snapshot(
    fleet_db: Database, reporter_key: SigningKey, tmp_path: Path
) -> None:
    """An imported License Service snapshot comes back out of the Reporter unchanged."""
    source = Database.open(sqlite_url(tmp_path / "cluster.db"))
    try:
        store_golden_dataset(source)
        own = tmp_path / "own.zip"
        own.write_bytes(snapshot_bytes(source, reporter_key))
    finally:
        source.dispose()
    import_snapshot(fleet_db, own, now=NOW)
    own_files = files_of(own)
    path = tmp_path / "fleet.zip"
    golden_period = DatePeriod(date(2026, 11, 1), date(2026, 11, 3))
    with path.open("wb") as out:
        write_fleet_snapshot(
            fleet_db, golden_period, signing_key=reporter_key, out=out, generated_at=NOW
        )
    fleet_files = files_of(path)
    suffix = f"2026-11-01_2026-11-03_{CLUSTER}"
    for prefix in ("products", "products_daily", "bundled_products", "bundled_products_daily"):
        name = f"{prefix}_{suffix}.csv"
        assert fleet_files[f"clusters/{CLUSTER}/{name}"] == own_files[name], name
    # One cluster: the fleet's numbers are the cluster's.
    fleet_products = fleet_files["products_2026-11-01_2026-11-03_all.csv"].replace(
        b",all\r\n", b"\r\n"
    )
    assert fleet_products == own_files[f"products_{suffix}.csv"].replace(
        f",{CLUSTER}\r\n".encode(), b"\r\n"
    )


def test_a_product_named_differently_by_two_clusters_is_one_row_a_day(
    fleet_db: Database, reporter_key: SigningKey, tmp_path: Path
) -> None:
    first = date(2026, 12, 1)
    keep(fleet_db, "a", [PushDay(first, True, products=(ProductUsage("MQ", "mq-1", "VPC", 3),))])
    keep(
        fleet_db, "b", [PushDay(first, True, products=(ProductUsage("IBM MQ", "mq-1", "VPC", 4),))]
    )
    files = files_of(snapshot(fleet_db, reporter_key, tmp_path))
    assert files[f"products_daily_{FILES}_all.csv"].decode().splitlines()[1:] == [
        "2026-12-01,IBM MQ,mq-1,VPC,7,all"
    ]
    assert files[f"products_{FILES}_all.csv"] == fleet_file_bytes(fleet_db, PRODUCT_ROWS)


def test_clusters_csv_and_data_condition_name_the_missing_days(
    fleet_db: Database, reporter_key: SigningKey, tmp_path: Path
) -> None:
    # Days 1-2 and 5 reported; 3-4 and 6-7 missing (8 is today, still being pushed).
    keep(fleet_db, "a", [*days_from(date(2026, 12, 1), 2), day_of(date(2026, 12, 5))])
    keep(fleet_db, "b", days_from(date(2026, 12, 1), 7))
    files = files_of(snapshot(fleet_db, reporter_key, tmp_path))
    clusters = list(csv.DictReader(io.StringIO(files["clusters.csv"].decode())))
    assert [row["clusterId"] for row in clusters] == ["a", "b"]
    assert clusters[0]["missingDays"] == "2026-12-03 2026-12-04 2026-12-06 2026-12-07"
    assert clusters[1]["missingDays"] == ""
    assert clusters[0]["lastPushAt"] == "2026-12-08T12:00:00Z"
    condition = files["data_condition.txt"].decode()
    assert (
        "Missing days:        2026-12-03 to 2026-12-04 (2 days), 2026-12-06 to 2026-12-07 (2 days)"
        in condition
    )
    assert "Period:              2026-12-01 to 2026-12-08 (8 UTC days, both included)" in condition
    assert "Reporter version:    1.2.3" in condition
    assert f"Fingerprint:         {reporter_key.fingerprint}" in condition
    assert "Files:               clusters/a/" in condition
    assert "Clusters:            2 (1 with missing days, 0 with a refused key pending)" in condition


def test_a_refused_key_pending_is_stated(
    fleet_db: Database, reporter_key: SigningKey, tmp_path: Path
) -> None:
    keep(fleet_db, "a", days_from(date(2026, 12, 1), 2))
    other = SigningKey.from_pem(TEST_KEY_FILE.read_bytes())
    with fleet_db.begin() as connection:
        store_days(
            connection,
            ClusterIdentity("a", "name of a", "9.9.9"),
            days_from(date(2026, 12, 3), 1),
            fingerprint=other.fingerprint,
            public_key_pem=other.public_pem().decode(),
            now=NOW,
            source="push",
        )
    condition = files_of(snapshot(fleet_db, reporter_key, tmp_path))["data_condition.txt"].decode()
    assert f"Refused key:         {other.fingerprint}, pending" in condition
    assert "1 with a refused key pending" in condition


def test_a_hostile_cluster_id_gets_a_safe_folder(
    fleet_db: Database, reporter_key: SigningKey, tmp_path: Path
) -> None:
    # Pushes refuse such ids; a database edited by hand may hold one.
    hostile = "../../etc/passwd\n=1+1"
    keep(fleet_db, hostile, days_from(date(2026, 12, 1), 1))
    keep(fleet_db, "good", days_from(date(2026, 12, 1), 1))
    path = snapshot(fleet_db, reporter_key, tmp_path)
    folder = cluster_folders([hostile])[hostile]
    assert folder.startswith("_.._etc_passwd__1_1~")
    names = list(files_of(path))
    for name in names:
        assert ".." not in name.split("/")
        assert not name.startswith("/")
        assert all(" " < c <= "~" for c in name), name
    assert f"clusters/{folder}/products_{FILES}_{folder}.csv" in names
    with zipfile.ZipFile(path) as archive:
        archive.extractall(tmp_path / "out")
    assert (tmp_path / "out" / "clusters" / folder).is_dir()
    assert not (tmp_path / "etc").exists()
    assert verify_snapshot(path).ok
    # The id itself is in the files' clusterId column, guarded as any text cell.
    data = files_of(path)[f"clusters/{folder}/products_{FILES}_{folder}.csv"].decode()
    assert '"../../etc/passwd\n=1+1"' in data
    assert "'../../etc/passwd\\n=1+1'" in files_of(path)["data_condition.txt"].decode()


def test_cluster_folders_are_the_ids_unless_unsafe_or_equal_but_for_case() -> None:
    folders = cluster_folders(["prod-1", "Prod", "prod", "a b", "all", ".hidden"])
    assert folders["prod-1"] == "prod-1"
    assert folders["all"] == "all"
    assert folders["Prod"].startswith("Prod~")
    assert folders["prod"].startswith("prod~")
    assert folders["a b"].startswith("a_b~")
    assert folders[".hidden"].startswith("hidden~")
    assert len(set(folders.values())) == len(folders)


def test_the_snapshot_verifies_and_a_changed_file_does_not(
    fleet_db: Database, reporter_key: SigningKey, tmp_path: Path
) -> None:
    keep(fleet_db, "a", days_from(date(2026, 12, 1), 3))
    path = snapshot(fleet_db, reporter_key, tmp_path)
    report = verify_snapshot(path, public_key_pem=reporter_key.public_pem())
    assert report.ok, report.findings
    assert len(report.verified) == len(report.files) == 4 + 4 + 5
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(tampered, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == f"clusters/a/products_daily_{FILES}_a.csv":
                data = data.replace(b",4,a", b",1,a")
            target.writestr(item, data)
    findings = verify_snapshot(tampered).findings
    assert [finding.file for finding in findings] == [f"clusters/a/products_daily_{FILES}_a.csv"]
    # A cluster's folder taken out, with its lines of checksum.txt left (they are signed).
    dropped = tmp_path / "dropped.zip"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(dropped, "w") as target:
        for item in source.infolist():
            if not item.filename.startswith("clusters/a/"):
                target.writestr(item, source.read(item.filename))
    assert not verify_snapshot(dropped).ok


def test_an_empty_reporter_gives_header_only_files(
    fleet_db: Database, reporter_key: SigningKey, tmp_path: Path
) -> None:
    files = files_of(snapshot(fleet_db, reporter_key, tmp_path))
    assert files[f"products_{FILES}_all.csv"] == (
        b"name,id,metricName,metricPeakDate,metricQuantity,clusterId\r\n"
    )
    assert files["clusters.csv"].count(b"\r\n") == 1
    assert "none: no cluster has pushed" in files["data_condition.txt"].decode()


def test_days_outside_the_period_are_left_out(
    fleet_db: Database, reporter_key: SigningKey, tmp_path: Path
) -> None:
    keep(fleet_db, "a", days_from(PERIOD.first - timedelta(days=2), 4))
    files = files_of(snapshot(fleet_db, reporter_key, tmp_path))
    dates = {
        line.split(",")[0]
        for line in files[f"clusters/a/products_daily_{FILES}_a.csv"].decode().splitlines()[1:]
    }
    assert dates == {"2026-12-01", "2026-12-02"}


def test_a_reporter_snapshot_cannot_be_imported_as_a_cluster(
    fleet_db: Database, reporter_key: SigningKey, tmp_path: Path
) -> None:
    keep(fleet_db, "a", days_from(date(2026, 12, 1), 2))
    with pytest.raises(SnapshotVerificationError, match="Reporter's snapshot"):
        read_snapshot(snapshot(fleet_db, reporter_key, tmp_path))
