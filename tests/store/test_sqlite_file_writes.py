"""A SQLite file's commits by other connections (another process's, a CLI command's) count."""

from __future__ import annotations

from pathlib import Path

from license_service.store.database import Database, sqlite_url


def _write(database: Database) -> None:
    with database.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE IF NOT EXISTS marks (n INTEGER)")
        connection.exec_driver_sql("INSERT INTO marks VALUES (1)")


def test_another_connections_commit_advances_the_data_version_only_then(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "store.db")
    served, command = Database.open(url), Database.open(url)
    try:
        served.notice_file_writes()
        steady = served.data_version
        with served.read() as connection:
            connection.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar_one()
        assert served.data_version == steady  # reads change nothing

        _write(command)
        moved = served.data_version
        assert moved != steady
        assert served.data_version == moved
    finally:
        served.dispose()
        command.dispose()


def test_without_noticing_another_connections_commit_is_not_counted(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "store.db")
    served, command = Database.open(url), Database.open(url)
    try:
        steady = served.data_version
        _write(command)
        assert served.data_version == steady
    finally:
        served.dispose()
        command.dispose()
