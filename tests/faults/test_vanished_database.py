"""Corrupt or vanished databases (issue 11.8): a real ``serve`` refuses them and keeps every byte.

A service samples into its store and stops. Then the store is damaged behind its
back, as a failing disk, a careless ``> file`` or a dropped schema would do it, and
the service is started again on the same data directory:

- SQLite file truncated to 0 bytes, or deleted: exit code 3 with what to do; the file
  is not re-created (it stays 0 bytes, or absent);
- a page of the SQLite file overwritten: exit code 3 naming the damage; the file is
  left byte for byte as it was (it used to start with ``/health`` OK);
- PostgreSQL schema dropped and created again (empty): exit code 3;
- ``--start-over`` then starts, with an empty store (the damaged file moved aside);
- a data directory of mode 0755 with a database of 0644 is made 0700 / 0600 at start,
  said once in the log.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Sequence
from pathlib import Path

import httpx
from sqlalchemy import create_engine, make_url
from sqlalchemy.pool import NullPool

from license_service.runtime.paths import DATABASE_FILE
from license_service.runtime.store_start import MARKER_FILE
from tests.e2e.processes import DUMP, eventually, free_port, run_cli, start_service
from tests.store.conftest import fresh_postgres_schema, postgres_url_or_skip

PAGE = 4096


def sampled_then_stopped(tmp_path: Path, signing_key: bytes, *, extra: Sequence[str] = ()) -> Path:
    """Run a service until it has stored a sample, stop it; return its data directory."""
    run_dir = tmp_path / "first-run"
    run_dir.mkdir()
    service = start_service(run_dir, signing_key=signing_key, extra=extra)
    try:

        def sampled() -> bool:
            health = httpx.get(f"{service.url}/health", params={"token": service.token}, timeout=10)
            return health.json()["collector"]["lastSampleAt"] is not None

        eventually(sampled, within=15, what="a first sample")
    finally:
        assert service.stop() == 0, service.log()
    assert (service.data_dir / MARKER_FILE).is_file()
    return service.data_dir


def serve_once(data_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``serve`` on ``data_dir``, expected to refuse to start (it would serve for ever)."""
    return run_cli(
        "serve", "--cluster-dump", str(DUMP), "--data-dir", str(data_dir), "--host", "127.0.0.1",
        "--port", str(free_port()), "--metrics-port", "0", *extra,
    )  # fmt: skip


def test_a_truncated_or_deleted_sqlite_file_is_refused_and_not_recreated(
    tmp_path: Path, faults_signing_key: bytes
) -> None:
    data_dir = sampled_then_stopped(tmp_path, faults_signing_key)
    database = data_dir / DATABASE_FILE
    os.truncate(database, 0)

    truncated = serve_once(data_dir)

    assert truncated.returncode == 3, truncated.stderr
    assert f"the database file {database} is empty (0 bytes)" in truncated.stderr
    assert "--start-over" in truncated.stderr
    assert "Traceback" not in truncated.stderr
    assert database.stat().st_size == 0

    database.unlink()
    deleted = serve_once(data_dir)

    assert deleted.returncode == 3, deleted.stderr
    assert f"the database file {database} does not exist" in deleted.stderr
    assert not database.exists()

    run_dir = tmp_path / "again"
    run_dir.mkdir()
    again = start_service(run_dir, data_dir=data_dir, extra=["--start-over"])
    assert again.stop() == 0
    assert "Started with --start-over" in again.log()


def test_a_sqlite_file_with_an_overwritten_page_is_refused_and_left_as_it_is(
    tmp_path: Path, faults_signing_key: bytes
) -> None:
    data_dir = sampled_then_stopped(tmp_path, faults_signing_key)
    database = data_dir / DATABASE_FILE
    with database.open("r+b") as file:
        file.seek(2 * PAGE)
        file.write(b"\xa5\x5a" * (PAGE // 2))
    damaged = database.read_bytes()

    refused = serve_once(data_dir)

    assert refused.returncode == 3, refused.stderr
    assert f"the database file {database} is damaged (" in refused.stderr
    assert "left unchanged" in refused.stderr
    assert database.read_bytes() == damaged

    run_dir = tmp_path / "again"
    run_dir.mkdir()
    again = start_service(run_dir, data_dir=data_dir, extra=["--start-over"])
    assert again.stop() == 0
    [aside] = data_dir.glob(f"{DATABASE_FILE}.damaged-*")
    assert aside.read_bytes() == damaged


def test_a_dropped_postgresql_schema_is_refused(tmp_path: Path, faults_signing_key: bytes) -> None:
    with fresh_postgres_schema(postgres_url_or_skip()) as url:
        data_dir = sampled_then_stopped(tmp_path, faults_signing_key, extra=["--database-url", url])
        schema = make_url(url).query["options"].removeprefix("-csearch_path=")
        engine = create_engine(url, poolclass=NullPool)
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        engine.dispose()

        refused = serve_once(data_dir, "--database-url", url)

        assert refused.returncode == 3, refused.stderr
        assert "holds no License Service tables (it is empty)" in refused.stderr
        assert "this data directory has used it since" in refused.stderr
        engine = create_engine(url, poolclass=NullPool)
        with engine.connect() as connection:
            tables = connection.exec_driver_sql(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            ).scalar()
        engine.dispose()
        assert tables == 0


def test_an_open_data_directory_and_database_are_made_private_at_start(
    tmp_path: Path, faults_signing_key: bytes
) -> None:
    data_dir = sampled_then_stopped(tmp_path, faults_signing_key)
    data_dir.chmod(0o755)
    (data_dir / DATABASE_FILE).chmod(0o644)

    run_dir = tmp_path / "again"
    run_dir.mkdir()
    service = start_service(run_dir, data_dir=data_dir)
    assert service.stop() == 0

    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert {
        path.name: stat.S_IMODE(path.stat().st_mode)
        for path in data_dir.iterdir()
        if path.name.startswith(DATABASE_FILE)
    } == {DATABASE_FILE: 0o600, f"{DATABASE_FILE}.lock": 0o600}  # the lock: one service per file
    assert service.log().count("Other users could read the service's data: tightened") == 1
