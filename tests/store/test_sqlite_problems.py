"""A SQLite store that cannot be used is refused with what is wrong with the file, and the fix.

Not SQLAlchemy's text, and not "check that the server is running": a SQLite file has
no server. A file this process cannot write, a directory it cannot write (SQLite keeps
its -wal and -shm files there) and a file that is not a database each get their own words.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from license_service.errors import StorageError
from license_service.store.database import Database, sqlite_url
from tests.store.read_only_paths import unwritable

NOT_SQLALCHEMY = ("server is running", "sqlalche.me", "OperationalError", "[SQL:")


def refusal(path: Path) -> str:
    with pytest.raises(StorageError) as refused:
        Database.open(sqlite_url(path)).dispose()
    message = str(refused.value)
    for words in NOT_SQLALCHEMY:
        assert words not in message
    return message


def existing_store(directory: Path) -> Path:
    directory.mkdir()
    path = directory / "store.db"
    Database.open(sqlite_url(path)).dispose()
    for companion in ("store.db-wal", "store.db-shm"):
        (directory / companion).unlink(missing_ok=True)
    return path


def test_a_file_that_is_not_a_database_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    path.write_text("name,id\nIBM MQ,mq\n")

    message = refusal(path)

    # The words of the integrity check at start, where it runs first, say the same.
    assert message.startswith(f"the database file {path} is ")
    assert "file is not a database" in message
    assert "from a backup" in message
    assert path.read_text() == "name,id\nIBM MQ,mq\n"  # left as it was


def test_a_read_only_database_file_is_named_with_the_reason(tmp_path: Path) -> None:
    path = existing_store(tmp_path / "data")

    with unwritable(path) as why:
        message = refusal(path)

    assert message.startswith(f"the database file {path} cannot be written by this process (")
    reason = "its file system is mounted read-only" if why == "read-only" else "-r--r--r--"
    assert reason in message
    assert "make it writable for the user the service runs as (" in message
    assert "or give another --data-dir" in message


@pytest.mark.parametrize("existing", [True, False], ids=["store", "no-store-yet"])
def test_an_unwritable_directory_is_named_with_the_files_sqlite_keeps_there(
    tmp_path: Path, existing: bool
) -> None:
    directory = tmp_path / "data"
    path = existing_store(directory) if existing else directory / "store.db"
    directory.mkdir(exist_ok=True)

    with unwritable(directory):
        message = refusal(path)

    assert message.startswith(f"this process cannot write in {directory}, the directory of")
    assert "where SQLite keeps its -wal and -shm files" in message


def test_a_directory_where_the_file_should_be_is_named(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    path.mkdir()

    assert refusal(path).startswith(f"the database path {path} is not a file")
