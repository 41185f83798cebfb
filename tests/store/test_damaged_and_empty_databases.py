"""A database that should hold data but is empty, or a damaged SQLite file, is never re-created.

``Database.open(url, if_empty="refuse")`` is what a caller expecting data uses (the
server on a data directory that used this database, ``snapshot create``): an absent
SQLite file, one of 0 bytes, or a database without the store's tables (a dropped
PostgreSQL schema) raise ``EmptyDatabaseError`` and nothing is created. A SQLite file
that is not a database or fails ``PRAGMA quick_check`` raises ``DamagedDatabaseError``
and keeps every byte, unless the caller asks to set it aside.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect
from sqlalchemy.pool import NullPool

from license_service.errors import DamagedDatabaseError, EmptyDatabaseError, StorageError
from license_service.store.database import Database, sqlite_file_of, sqlite_url
from license_service.store.samples import latest_sample
from license_service.store.sqlite_files import integrity_problem, set_aside
from tests.store.sample_builders import CLUSTER, at, product, store

PAGE = 4096


@pytest.fixture
def raw(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url, poolclass=NullPool)
    yield engine
    engine.dispose()


def filled(path: Path) -> Path:
    """A SQLite store at ``path`` with 12 samples (a page for each table and index), closed.

    Closing the last connection writes the write-ahead log into the file.
    """
    database = Database.open(sqlite_url(path))
    try:
        for step in range(12):
            store(database, at("2026-11-02") + timedelta(minutes=5 * step), product("db2", step))
    finally:
        database.dispose()
    assert not Path(f"{path}-wal").exists()
    return path


def overwrite(path: Path, *, offset: int, length: int) -> None:
    """Write ``length`` bytes of a repeated pattern at ``offset``, as a bad disk block would."""
    with path.open("r+b") as file:
        file.seek(offset)
        file.write(b"\xa5\x5a" * (length // 2))


def test_an_empty_database_is_refused_when_data_is_expected_and_gets_no_tables(
    database_url: str, raw: Engine
) -> None:
    with pytest.raises(EmptyDatabaseError, match=r"does not exist|holds no License Service"):
        Database.open(database_url, if_empty="refuse")

    sqlite_file = sqlite_file_of(database_url)
    if sqlite_file is not None:
        assert not sqlite_file.exists()
    else:
        assert inspect(raw).get_table_names() == []


def test_a_database_with_its_tables_is_opened_when_data_is_expected(database_url: str) -> None:
    Database.open(database_url).dispose()

    Database.open(database_url, if_empty="refuse").dispose()


def test_a_sqlite_file_truncated_to_0_bytes_is_refused_and_stays_0_bytes(tmp_path: Path) -> None:
    path = filled(tmp_path / "store.db")
    os.truncate(path, 0)

    with pytest.raises(EmptyDatabaseError, match=r"store\.db is empty \(0 bytes\)"):
        Database.open(sqlite_url(path), if_empty="refuse")

    assert path.stat().st_size == 0


def test_a_new_sqlite_file_is_created_private_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        Database.open(sqlite_url(tmp_path / "store.db")).dispose()
    finally:
        os.umask(previous)

    assert (tmp_path / "store.db").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("offset", "what"),
    [
        (0, "the header"),  # "file is not a database"
        (2 * PAGE, "a table page"),  # quick_check finds the tree broken
    ],
)
def test_a_sqlite_file_with_overwritten_bytes_is_refused_and_left_unchanged(
    tmp_path: Path, offset: int, what: str
) -> None:
    path = filled(tmp_path / "store.db")
    overwrite(path, offset=offset, length=PAGE)
    damaged = path.read_bytes()

    with pytest.raises(DamagedDatabaseError) as refused:
        Database.open(sqlite_url(path))

    assert "is damaged (" in str(refused.value), what
    assert "left unchanged: restore the file from a backup" in str(refused.value)
    assert path.read_bytes() == damaged
    assert isinstance(refused.value, StorageError)


def test_an_intact_file_passes_the_quick_check(tmp_path: Path) -> None:
    assert integrity_problem(filled(tmp_path / "store.db")) is None


def test_a_damaged_file_set_aside_keeps_its_bytes_and_an_empty_store_begins(
    tmp_path: Path,
) -> None:
    path = filled(tmp_path / "store.db")
    overwrite(path, offset=2 * PAGE, length=PAGE)
    damaged = path.read_bytes()

    database = Database.open(sqlite_url(path), if_damaged="set aside")
    try:
        with database.read() as connection:
            assert latest_sample(connection, cluster_id=CLUSTER) is None
    finally:
        database.dispose()

    [aside] = tmp_path.glob("store.db.damaged-*")
    assert aside.read_bytes() == damaged
    assert integrity_problem(path) is None


def test_set_aside_moves_the_wal_and_shm_files_with_the_database(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").write_bytes(suffix.encode() or b"db")

    aside = set_aside(path, now=lambda: datetime(2026, 11, 2, 10, 0, tzinfo=UTC))

    assert aside == tmp_path / "store.db.damaged-20261102T100000Z"
    assert sorted(file.name for file in tmp_path.iterdir()) == [
        "store.db.damaged-20261102T100000Z",
        "store.db.damaged-20261102T100000Z-shm",
        "store.db.damaged-20261102T100000Z-wal",
    ]


def test_a_locked_database_is_not_called_damaged(tmp_path: Path) -> None:
    path = filled(tmp_path / "store.db")
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        assert integrity_problem(path, busy_timeout=0.1) is None
    finally:
        holder.close()
