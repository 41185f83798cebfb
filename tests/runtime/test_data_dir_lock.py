"""The data directory's lock and the SQLite database's: one holder, its pid named to the
refused, never stale."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from license_service.errors import ConfigurationError, StorageError
from license_service.runtime.data_dir_lock import LOCK_FILE, DatabaseFileLock, DataDirLock
from tests.runtime.test_service import build

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)

# Run as ``python -c _HOLDER DIR``: takes the lock, says so, then waits to be killed.
_HOLDER = (
    "import sys, time; from pathlib import Path; "
    "from license_service.runtime.data_dir_lock import DataDirLock; "
    "DataDirLock.acquire(Path(sys.argv[1])); print('locked', flush=True); time.sleep(600)"
)


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the lock on ``tmp_path``."""
    with subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline() == "locked\n"
            yield process
        finally:
            process.kill()


def test_the_holder_writes_its_pid_and_start_and_empties_the_file_on_release(
    tmp_path: Path,
) -> None:
    lock = DataDirLock.acquire(tmp_path, clock=lambda: NOW)

    written = json.loads((tmp_path / LOCK_FILE).read_text())
    assert written == {"pid": os.getpid(), "startedAt": "2026-11-28T10:00:00Z"}
    assert (tmp_path / LOCK_FILE).stat().st_mode & 0o777 == 0o600
    lock.release()
    lock.release()
    assert not lock.held
    assert (tmp_path / LOCK_FILE).read_text() == ""
    DataDirLock.acquire(tmp_path).release()


def test_a_second_holder_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    lock = DataDirLock.acquire(tmp_path, clock=lambda: NOW)
    try:
        with pytest.raises(ConfigurationError) as refused:
            DataDirLock.acquire(tmp_path)
    finally:
        lock.release()

    assert str(refused.value) == (
        f"data directory {tmp_path} is in use by another License Service (pid {os.getpid()}, "
        "started 2026-11-28T10:00:00Z); stop that one first, or give this one another --data-dir"
    )


def test_another_process_holding_the_lock_is_named(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    with pytest.raises(ConfigurationError, match=rf"\(pid {holder.pid}, started "):
        DataDirLock.acquire(tmp_path)


def test_a_holder_killed_with_sigkill_leaves_no_lock(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()

    lock = DataDirLock.acquire(tmp_path)

    assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == os.getpid()
    lock.release()


def test_a_holder_that_wrote_nothing_yet_is_still_refused_clearly(tmp_path: Path) -> None:
    descriptor = os.open(tmp_path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        with pytest.raises(ConfigurationError, match="its pid is not written in the lock file"):
            DataDirLock.acquire(tmp_path)
    finally:
        os.close(descriptor)


def test_a_lock_file_that_cannot_be_opened_is_named(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")

    with pytest.raises(ConfigurationError, match=r"cannot open the lock file .*: Not a directory"):
        DataDirLock.acquire(not_a_directory)


def test_a_file_system_without_locks_starts_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def no_locks(descriptor: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    # No test file system lacks locks: flock fails as it does on one.
    monkeypatch.setattr(fcntl, "flock", no_locks)

    lock = DataDirLock.acquire(tmp_path)

    assert not lock.held
    assert "nothing stops a second service on this data directory" in caplog.text
    lock.release()


def test_a_service_holds_the_lock_until_it_is_closed(tmp_path: Path) -> None:
    service = build(tmp_path)
    try:
        with pytest.raises(ConfigurationError, match="is in use by another License Service"):
            build(tmp_path)
    finally:
        service.close()

    build(tmp_path).close()


def test_a_service_that_fails_to_start_lets_the_lock_go(tmp_path: Path) -> None:
    with pytest.raises(StorageError):
        build(tmp_path, database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")

    DataDirLock.acquire(tmp_path / "data").release()


def test_a_sqlite_database_is_locked_in_a_file_beside_it_never_in_the_database_file(
    tmp_path: Path,
) -> None:
    database = tmp_path / "same.db"
    database.write_bytes(b"")

    lock = DatabaseFileLock.acquire(database, clock=lambda: NOW)
    try:
        with pytest.raises(ConfigurationError) as refused:
            DatabaseFileLock.acquire(database)
        written = json.loads((tmp_path / "same.db.lock").read_text())
    finally:
        lock.release()

    assert written == {"pid": os.getpid(), "startedAt": "2026-11-28T10:00:00Z"}
    assert database.read_bytes() == b""
    assert str(refused.value).startswith(
        f"SQLite database {database} is in use by another License Service (pid {os.getpid()}, "
        "started 2026-11-28T10:00:00Z), with another data directory"
    )
    assert "give this one its own --database-url" in str(refused.value)
    DatabaseFileLock.acquire(database).release()


def test_two_data_directories_on_one_sqlite_database_are_one_service_at_a_time(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'same.db'}"
    first = build(tmp_path / "a", database_url=url)
    try:
        assert first.database_lock is not None
        with pytest.raises(ConfigurationError, match=r"SQLite database .*same\.db is in use"):
            build(tmp_path / "b", database_url=url)
        # The refused one let its own data directory go.
        DataDirLock.acquire(tmp_path / "b" / "data").release()
    finally:
        first.close()

    assert first.database_lock is not None
    assert not first.database_lock.held
    build(tmp_path / "b", database_url=url).close()


def test_a_service_that_fails_to_open_its_sqlite_database_lets_its_lock_go(
    tmp_path: Path,
) -> None:
    database = tmp_path / "damaged.db"
    database.write_bytes(b"not a database" * 100)

    with pytest.raises(StorageError):
        build(tmp_path, database_url=f"sqlite:///{database}")

    DatabaseFileLock.acquire(database).release()
