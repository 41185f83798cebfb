"""`license-service snapshot create | verify` build and check audit snapshots without the server."""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from license_service.cli.app import build_app
from license_service.cli.snapshot_command import DATABASE_FILE
from license_service.metering.cluster_view import ClusterId
from license_service.signing.keys import SigningKey
from license_service.store.database import Database, sqlite_url
from tests.audit.conftest import GOLDEN_DIR, TEST_KEY_FILE
from tests.audit.snapshot_data import ENTITLEMENTS_FILE, store_golden_dataset
from tests.store.sample_builders import at, product, store

SNAPSHOT_NAME = "license-service-snapshot_cluster-a_2026-11-01_2026-11-03.zip"
PERIOD_ARGS = ["--from", "2026-11-01", "--to", "2026-11-03"]


def run(*args: str | Path) -> Any:
    return CliRunner().invoke(build_app(), [str(arg) for arg in args], env={"COLUMNS": "250"})


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """A server data directory: the golden dataset's store; no signing key yet."""
    directory = tmp_path / "data"
    directory.mkdir()
    database = Database.open(sqlite_url(directory / DATABASE_FILE))
    try:
        store_golden_dataset(database)
        yield directory
    finally:
        database.dispose()


@pytest.fixture
def keyed_data_dir(data_dir: Path) -> Path:
    """The data directory with the fixed test signing key already in it."""
    shutil.copyfile(TEST_KEY_FILE, data_dir / "signing-key.pem")
    return data_dir


@pytest.fixture
def snapshot(keyed_data_dir: Path, tmp_path: Path) -> Path:
    """A snapshot created by the command from ``keyed_data_dir``."""
    result = run(
        "snapshot", "create", *PERIOD_ARGS, "--data-dir", keyed_data_dir, "-o", tmp_path,
        "--entitlements", ENTITLEMENTS_FILE,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return tmp_path / SNAPSHOT_NAME


def test_create_writes_the_standard_name_into_an_output_directory(
    keyed_data_dir: Path, tmp_path: Path
) -> None:
    result = run("snapshot", "create", *PERIOD_ARGS, "--data-dir", keyed_data_dir, "-o", tmp_path)
    assert result.exit_code == 0, result.output
    assert f"wrote {tmp_path / SNAPSHOT_NAME}" in result.output
    key = SigningKey.from_pem(TEST_KEY_FILE.read_bytes())
    assert f"signed by {key.fingerprint}" in result.output
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data", SNAPSHOT_NAME]


def test_a_created_snapshot_holds_the_same_csv_files_as_the_golden_ones(snapshot: Path) -> None:
    with zipfile.ZipFile(snapshot) as archive:
        for golden in GOLDEN_DIR.glob("*.csv"):
            assert archive.read(golden.name) == golden.read_bytes(), golden.name
        condition = archive.read("data_condition.txt").decode()
    assert "Cluster name:          cluster-a\n" in condition
    assert "Raw samples:           62 days\n" in condition


def test_create_makes_the_signing_key_once_with_mode_0600_and_reuses_it(
    data_dir: Path, tmp_path: Path
) -> None:
    first = run(
        "snapshot", "create", *PERIOD_ARGS, "--data-dir", data_dir, "-o", tmp_path / "1.zip"
    )
    assert first.exit_code == 0, first.output
    key_file = data_dir / "signing-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    kept = key_file.read_bytes()
    second = run(
        "snapshot", "create", *PERIOD_ARGS, "--data-dir", data_dir, "-o", tmp_path / "2.zip"
    )
    assert second.exit_code == 0, second.output
    assert key_file.read_bytes() == kept
    fingerprint = SigningKey.from_pem(kept).fingerprint
    assert f"signed by {fingerprint}" in first.output
    assert f"signed by {fingerprint}" in second.output


def test_verify_accepts_an_untouched_snapshot(snapshot: Path) -> None:
    result = run("snapshot", "verify", snapshot)
    assert result.exit_code == 0, result.output
    assert "products_2026-11-01_2026-11-03_cluster-a.csv: OK\n" in result.output
    assert "OK: every file matches checksum.txt and the signature verifies" in result.output
    assert "pass --public-key" in result.output


def test_verify_against_the_trusted_key_says_so(snapshot: Path, tmp_path: Path) -> None:
    public = tmp_path / "trusted.pem"
    public.write_bytes(SigningKey.from_pem(TEST_KEY_FILE.read_bytes()).public_pem())
    result = run("snapshot", "verify", snapshot, "--public-key", public)
    assert result.exit_code == 0, result.output
    assert "Signature checked with the trusted key SHA256:" in result.output


def test_verify_names_every_failing_file_and_exits_1(snapshot: Path, tmp_path: Path) -> None:
    tampered = tmp_path / "tampered.zip"
    daily = "products_daily_2026-11-01_2026-11-03_cluster-a.csv"
    with zipfile.ZipFile(snapshot) as original, zipfile.ZipFile(tampered, "w") as copy:
        for name in original.namelist():
            data = original.read(name)
            if name == daily:
                data = data.replace(b",6,", b",5,")
            if name != "services_2026-11-01_2026-11-03_cluster-a.csv":
                copy.writestr(name, data)
    result = run("snapshot", "verify", tampered)
    assert result.exit_code == 1, result.output
    assert f"{daily}: FAILED: SHA-256" in result.output
    assert "services_2026-11-01_2026-11-03_cluster-a.csv: FAILED: missing" in result.output
    assert (
        "FAILED: 2 problems in products_daily_2026-11-01_2026-11-03_cluster-a.csv, "
        "services_2026-11-01_2026-11-03_cluster-a.csv\n"
    ) in result.output


def test_verify_with_a_wrong_public_key_exits_1(snapshot: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.pem"
    other.write_bytes(SigningKey.generate().public_pem())
    result = run("snapshot", "verify", snapshot, "--public-key", other)
    assert result.exit_code == 1, result.output
    assert "pub_key.pem: FAILED: is key SHA256:" in result.output
    assert "signature.rsa: FAILED: is not a valid signature" in result.output


def test_verify_of_a_file_that_is_not_a_zip_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "notes.zip"
    path.write_text("hello")
    result = run("snapshot", "verify", path)
    assert result.exit_code == 2
    assert "license-service: error: cannot read" in result.output
    assert "as a zip archive" in result.output


def test_verify_with_an_unreadable_public_key_exits_2(snapshot: Path, tmp_path: Path) -> None:
    result = run("snapshot", "verify", snapshot, "--public-key", tmp_path / "absent.pem")
    assert result.exit_code == 2
    assert "cannot read the trusted public key" in result.output


@pytest.mark.parametrize(
    ("date_from", "date_to", "message"),
    [
        pytest.param(
            "2026-11-03",
            "2026-11-01",
            "--to: 2026-11-01 is before --from 2026-11-03",
            id="reversed",
        ),
        pytest.param("2026-13-01", "2026-11-01", "'2026-13-01' is not a date", id="no-month-13"),
        pytest.param("20261101", "2026-11-03", "write YYYY-MM-DD", id="compact-form"),
        pytest.param(
            "2024-01-01",
            "2026-01-01",
            "spans 732 days; a snapshot covers at most 731",
            id="732-days",
        ),
        pytest.param("2026-11-01", "2999-01-01", "is after today", id="future"),
        pytest.param("0001-01-01", "0003-01-01", "is before 1970-01-01", id="year-1"),
    ],
)
def test_create_refuses_a_bad_period_with_exit_code_2(
    keyed_data_dir: Path, tmp_path: Path, date_from: str, date_to: str, message: str
) -> None:
    result = run(
        "snapshot", "create", "--from", date_from, "--to", date_to,
        "--data-dir", keyed_data_dir, "-o", tmp_path,
    )  # fmt: skip
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / SNAPSHOT_NAME).exists()


def test_the_longest_period_is_731_days(keyed_data_dir: Path, tmp_path: Path) -> None:
    result = run(
        "snapshot", "create", "--from", "2024-11-03", "--to", "2026-11-03",
        "--data-dir", keyed_data_dir, "-o", tmp_path / "long.zip",
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def test_with_several_clusters_the_cluster_must_be_chosen(
    keyed_data_dir: Path, tmp_path: Path
) -> None:
    database = Database.open(sqlite_url(keyed_data_dir / DATABASE_FILE))
    try:
        store(database, at("2026-11-01", "12:00"), product("x", 1), cluster_id=ClusterId("b-2"))
    finally:
        database.dispose()
    ambiguous = run("snapshot", "create", *PERIOD_ARGS, "--data-dir", keyed_data_dir)
    assert ambiguous.exit_code == 2
    assert "several clusters (b-2, cluster-a): choose one with --cluster-id" in ambiguous.output
    chosen = run(
        "snapshot", "create", *PERIOD_ARGS, "--data-dir", keyed_data_dir,
        "--cluster-id", "b-2", "-o", tmp_path,
    )  # fmt: skip
    assert chosen.exit_code == 0, chosen.output
    assert (tmp_path / "license-service-snapshot_b-2_2026-11-01_2026-11-03.zip").is_file()
    unknown = run(
        "snapshot", "create", *PERIOD_ARGS, "--data-dir", keyed_data_dir, "--cluster-id", "zz"
    )
    assert unknown.exit_code == 2
    assert "cluster id 'zz' has no data" in unknown.output


def test_a_data_dir_without_a_database_is_refused(tmp_path: Path) -> None:
    result = run("snapshot", "create", *PERIOD_ARGS, "--data-dir", tmp_path)
    assert result.exit_code == 2
    assert f"no database {tmp_path / DATABASE_FILE}" in result.output
    assert not (tmp_path / DATABASE_FILE).exists()


def test_a_database_url_and_a_key_file_work_without_a_data_dir(
    keyed_data_dir: Path, tmp_path: Path
) -> None:
    output = tmp_path / "out" / "q4.zip"
    output.parent.mkdir()
    result = run(
        "snapshot", "create", *PERIOD_ARGS,
        "--database-url", sqlite_url(keyed_data_dir / DATABASE_FILE),
        "--signing-key", keyed_data_dir / "signing-key.pem",
        "--cluster-name", "Production", "-o", output,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [path.name for path in output.parent.iterdir()] == ["q4.zip"]
    with zipfile.ZipFile(output) as archive:
        assert "Cluster name:          Production\n" in archive.read("data_condition.txt").decode()


def _aged(path: Path, *, minutes: int = 5) -> Path:
    """``path`` last changed ``minutes`` ago, as the file of a run killed then would be."""
    earlier = time.time() - minutes * 60
    os.utime(path, (earlier, earlier))
    return path


def test_create_removes_the_unfinished_files_of_killed_runs_and_only_those(
    keyed_data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    killed = [
        out / f".{SNAPSHOT_NAME}.0123456789abcdef.partial",
        out / ".my-audit.zip.fedcba9876543210.partial",
        # The name earlier versions gave their temporary file (tempfile.mkstemp).
        out / ".license-service-snapshot_c_2026-01-01_2026-01-31.zip.k3_9zq1a.tmp",
    ]
    for path in killed:
        path.write_bytes(b"PK\x03\x04 half a zip")
        _aged(path)
    others = [
        out / ".notes.txt.swp",
        out / ".report.zip.abcdefgh.tmp",  # not our name: someone else's
        out / "license-service-snapshot_c_2026-01-01_2026-01-31.zip.tmp",
        out / ".x.0123456789abcdef.partial.bak",
    ]
    recent = out / f".{SNAPSHOT_NAME}.00000000000000aa.partial"  # a run that has just begun
    for path in [*others, recent]:
        path.write_bytes(b"keep me")
    _aged(recent, minutes=0)
    for path in others:
        _aged(path)

    result = run("snapshot", "create", *PERIOD_ARGS, "--data-dir", keyed_data_dir, "-o", out)

    assert result.exit_code == 0, result.output
    for path in killed:
        assert not path.exists()
        assert f"removed {path}, left by a snapshot run that was interrupted" in result.output
    assert sorted(path.name for path in out.iterdir()) == sorted(
        [SNAPSHOT_NAME, recent.name, *(path.name for path in others)]
    )


def test_an_unfinished_file_a_live_run_still_writes_is_left_alone(
    keyed_data_dir: Path, tmp_path: Path
) -> None:
    live = tmp_path / f".{SNAPSHOT_NAME}.0123456789abcdef.partial"
    with live.open("wb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # what a writing run holds
        _aged(live)  # as if it had been writing for minutes

        result = run(
            "snapshot", "create", *PERIOD_ARGS, "--data-dir", keyed_data_dir, "-o", tmp_path
        )

    assert result.exit_code == 0, result.output
    assert live.exists()
    assert (tmp_path / SNAPSHOT_NAME).is_file()


def test_create_with_chargeback_adds_the_groups_files_and_verifies(
    keyed_data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = run(
        "snapshot", "create", *PERIOD_ARGS, "--chargeback", "--data-dir", keyed_data_dir, "-o", out
    )
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out / SNAPSHOT_NAME) as archive:
        names = archive.namelist()
    suffix = "2026-11-01_2026-11-03_cluster-a"
    assert f"chargeback_products_{suffix}.csv" in names
    assert f"chargeback_products_daily_{suffix}.csv" in names
    verified = run("snapshot", "verify", out / SNAPSHOT_NAME)
    assert verified.exit_code == 0, verified.output
