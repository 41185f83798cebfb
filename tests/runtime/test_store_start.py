"""The service's store at start: private files, never a silent new store where data was.

Every test runs on SQLite and on PostgreSQL where storage is involved: the data
directory remembers the databases it used (``store-marker.json``), so a database
emptied since (a SQLite file truncated or deleted, a PostgreSQL schema dropped) is
refused with the way out, and ``--start-over`` (``start_over=True``) begins again.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url
from sqlalchemy.pool import NullPool

from license_service.errors import DamagedDatabaseError, EmptyDatabaseError
from license_service.runtime.store_start import MARKER_FILE, make_private, open_service_store
from license_service.store.database import Database, shown_url, sqlite_file_of, sqlite_url
from license_service.store.samples import latest_sample
from tests.store.conftest import fresh_postgres_schema, postgres_url_or_skip
from tests.store.sample_builders import CLUSTER, at, product, store

FIRST_START = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The database of a data directory at ``tmp_path / "data"``: its SQLite file, or a schema."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "data" / "license-service.db")
    else:
        with fresh_postgres_schema(postgres_url_or_skip()) as url:
            yield url


@pytest.fixture
def root(tmp_path: Path) -> Path:
    directory = tmp_path / "data"
    directory.mkdir(mode=0o700)
    return directory


def start(root: Path, url: str, *, start_over: bool = False) -> Database:
    return open_service_store(
        root, database_url=url, start_over=start_over, clock=lambda: FIRST_START
    )


def used_then_emptied(root: Path, url: str) -> None:
    """A first start that stores a sample, then the database emptied behind its back."""
    database = start(root, url)
    store(database, at("2026-11-02", "10:00"), product("db2", 4))
    database.dispose()
    sqlite_file = sqlite_file_of(url)
    if sqlite_file is not None:
        os.truncate(sqlite_file, 0)
        return
    engine = create_engine(url, poolclass=NullPool)
    schema = make_url(url).query["options"].removeprefix("-csearch_path=")
    with engine.begin() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine.dispose()


def test_a_first_start_creates_the_store_and_the_marker_names_it(
    root: Path, database_url: str
) -> None:
    start(root, database_url).dispose()

    marker = json.loads((root / MARKER_FILE).read_text())
    assert marker == {"databases": {shown_url(database_url): FIRST_START.isoformat()}}
    assert stat.S_IMODE((root / MARKER_FILE).stat().st_mode) == 0o600


def test_a_database_emptied_since_it_was_used_is_refused_with_the_way_out(
    root: Path, database_url: str
) -> None:
    used_then_emptied(root, database_url)

    with pytest.raises(EmptyDatabaseError) as refused:
        start(root, database_url)

    message = str(refused.value)
    assert f"this data directory has used it since {FIRST_START.isoformat()}" in message
    assert "restore it from a backup" in message
    assert "start with --start-over" in message
    sqlite_file = sqlite_file_of(database_url)
    if sqlite_file is not None:
        assert sqlite_file.stat().st_size == 0  # not silently re-created


def test_start_over_begins_an_empty_store_where_one_was_emptied(
    root: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    used_then_emptied(root, database_url)

    with caplog.at_level(logging.WARNING):
        database = start(root, database_url, start_over=True)
    try:
        with database.read() as connection:
            assert latest_sample(connection, cluster_id=CLUSTER) is None
    finally:
        database.dispose()
    assert "Started with --start-over" in caplog.text
    start(root, database_url).dispose()  # and the next start, without the flag, goes on


def test_a_store_from_before_the_marker_is_opened_and_then_listed(
    root: Path, database_url: str
) -> None:
    Database.open(database_url).dispose()  # an earlier version made it; no marker yet

    start(root, database_url).dispose()

    assert shown_url(database_url) in (root / MARKER_FILE).read_text()


def test_another_database_url_is_a_new_store_of_its_own(root: Path, tmp_path: Path) -> None:
    start(root, sqlite_url(root / "license-service.db")).dispose()

    start(root, sqlite_url(tmp_path / "elsewhere.db")).dispose()

    assert len(json.loads((root / MARKER_FILE).read_text())["databases"]) == 2


def test_a_damaged_file_is_refused_and_start_over_moves_it_aside(root: Path) -> None:
    url = sqlite_url(root / "license-service.db")
    start(root, url).dispose()
    (root / "license-service.db").write_bytes(b"this is not a SQLite database at all" * 200)

    with pytest.raises(DamagedDatabaseError, match="start with --start-over, which moves"):
        start(root, url)
    start(root, url, start_over=True).dispose()

    [aside] = root.glob("license-service.db.damaged-*")
    assert aside.read_bytes().startswith(b"this is not a SQLite database")


def test_an_unreadable_marker_is_written_again(
    root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (root / MARKER_FILE).write_text("{not json")

    with caplog.at_level(logging.WARNING):
        start(root, sqlite_url(root / "license-service.db")).dispose()

    assert "Cannot read" in caplog.text
    assert json.loads((root / MARKER_FILE).read_text())["databases"]


def test_an_open_data_directory_and_database_are_made_private_and_said_once(
    root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database_file = root / "license-service.db"
    Database.open(sqlite_url(database_file)).dispose()
    root.chmod(0o755)
    database_file.chmod(0o644)

    with caplog.at_level(logging.WARNING):
        start(root, sqlite_url(database_file)).dispose()
        start(root, sqlite_url(database_file)).dispose()

    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE(database_file.stat().st_mode) == 0o600
    [said] = [
        record.getMessage() for record in caplog.records if "tightened" in record.getMessage()
    ]
    assert said == (
        f"Other users could read the service's data: tightened {root} 0755 -> 0700; "
        f"{database_file} 0644 -> 0600"
    )


def test_private_files_and_other_owners_files_are_left_alone(tmp_path: Path) -> None:
    tmp_path.chmod(0o700)
    (tmp_path / "db").write_bytes(b"")
    (tmp_path / "db").chmod(0o600)

    assert make_private(tmp_path, tmp_path / "db") == []
