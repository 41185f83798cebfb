"""``Database.data_version`` and write listeners: every writing transaction is counted.

The count is kept by ``Database`` itself, the same for every backend: these tests run
on SQLite only.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from license_service.errors import StorageError
from license_service.store.database import Database, sqlite_url
from tests.store.sample_builders import at, product, store


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(sqlite_url(tmp_path / "license-service.db"))
    yield database
    database.dispose()


def test_each_writing_transaction_advances_the_version_and_reads_do_not(db: Database) -> None:
    start = db.data_version

    store(db, at("2026-11-02", "10:00"), product("db2", 4))
    store(db, at("2026-11-02", "10:05"), product("db2", 5))
    with db.read() as connection:
        connection.execute(text("SELECT count(*) FROM samples")).scalar()
    with db.connect() as connection:
        connection.execute(text("SELECT 1"))

    assert db.data_version == start + 2


def test_a_failed_writing_transaction_advances_the_version_too(db: Database) -> None:
    start = db.data_version

    with pytest.raises(StorageError), db.begin() as connection:
        connection.execute(text("SELECT * FROM no_such_table"))
    with pytest.raises(RuntimeError), db.begin():
        raise RuntimeError("the caller failed")

    assert db.data_version == start + 2


class Listener:
    """Records the version it sees when told, and in which thread."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.seen: list[tuple[int, str]] = []

    def written(self) -> None:
        self.seen.append((self._db.data_version, threading.current_thread().name))


def test_listeners_are_told_after_the_commit_in_the_writers_thread(db: Database) -> None:
    listener = Listener(db)
    db.add_write_listener(listener.written)
    visible: list[int] = []

    def writer() -> None:
        store(db, at("2026-11-02", "10:00"), product("db2", 4))
        with db.read() as connection:
            visible.append(connection.execute(text("SELECT count(*) FROM samples")).scalar_one())

    thread = threading.Thread(target=writer, name="writer")
    thread.start()
    thread.join(timeout=30)

    assert listener.seen == [(db.data_version, "writer")]
    assert visible == [1]


def test_a_failing_listener_does_not_fail_the_writer(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    def failing() -> None:
        raise ValueError("listener bug")

    db.add_write_listener(failing)

    store(db, at("2026-11-02", "10:00"), product("db2", 4))

    assert "A write listener of database" in caplog.text
    with db.read() as connection:
        assert connection.execute(text("SELECT count(*) FROM samples")).scalar_one() == 1


def test_listeners_are_held_weakly(db: Database) -> None:
    listener = Listener(db)
    db.add_write_listener(listener.written)
    store(db, at("2026-11-02", "10:00"), product("db2", 4))
    seen = listener.seen

    del listener
    gc.collect()
    store(db, at("2026-11-02", "10:05"), product("db2", 5))

    assert len(seen) == 1
