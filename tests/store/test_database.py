"""Opening databases: migration, refusal of newer schemas, connection settings, errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from license_service.errors import SchemaTooNewError, StorageError
from license_service.metering.settings import MeteringSettings
from license_service.store.database import MIGRATIONS, Database, sqlite_url
from license_service.store.settings_history import record_settings, settings_history
from license_service.store.tables import metadata
from tests.store.sample_builders import CLUSTER, OTHER_CLUSTER, at, product, store

FUTURE_REVISION = "0999_written_by_a_newer_version"


def newest_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    (head,) = ScriptDirectory.from_config(config).get_heads()
    return head


@pytest.fixture
def raw(database_url: str) -> Iterator[Engine]:
    """A plain engine on the same database, to look at and tamper with it directly."""
    engine = create_engine(database_url, poolclass=NullPool)
    yield engine
    engine.dispose()


def stamps(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(text("SELECT version_num FROM alembic_version")))


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def columns(engine: Engine) -> dict[str, list[tuple[str, str, bool]]]:
    inspector = inspect(engine)
    return {
        table: [
            (column["name"], str(column["type"]), column["nullable"])
            for column in inspector.get_columns(table)
        ]
        for table in inspector.get_table_names()
    }


def test_opening_an_empty_database_creates_every_table_at_the_newest_revision(
    database_url: str, raw: Engine
) -> None:
    Database.open(database_url).dispose()

    assert table_names(raw) == {*metadata.tables, "alembic_version"}
    assert stamps(raw) == [newest_revision()]


def test_the_migrated_schema_matches_the_table_definitions(db: Database) -> None:
    with db.begin() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)

    assert differences == []


def test_opening_a_database_twice_keeps_its_data_and_its_stamp(
    database_url: str, raw: Engine
) -> None:
    first = Database.open(database_url)
    store(first, at("2026-11-02", "10:00"), product("db2", 4))
    first.dispose()
    columns_before = columns(raw)

    Database.open(database_url).dispose()

    assert stamps(raw) == [newest_revision()]
    assert columns(raw) == columns_before
    with raw.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM sample_products")) == 1


def test_a_database_of_a_newer_version_is_refused_and_left_unchanged(
    database_url: str, raw: Engine
) -> None:
    Database.open(database_url).dispose()
    with raw.begin() as connection:
        connection.execute(
            text("UPDATE alembic_version SET version_num = :v"), {"v": FUTURE_REVISION}
        )
        connection.execute(text("DROP TABLE settings_history"))

    with pytest.raises(SchemaTooNewError, match=FUTURE_REVISION) as refused:
        Database.open(database_url)

    assert "newer version" in str(refused.value)
    assert stamps(raw) == [FUTURE_REVISION]
    # Not "repaired" either: the table the newer version dropped stays dropped.
    assert "settings_history" not in table_names(raw)


def test_an_empty_database_stamped_by_a_newer_version_gets_no_tables(
    database_url: str, raw: Engine
) -> None:
    with raw.begin() as connection:
        connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        connection.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": FUTURE_REVISION})

    with pytest.raises(SchemaTooNewError):
        Database.open(database_url)

    assert table_names(raw) == {"alembic_version"}
    assert stamps(raw) == [FUTURE_REVISION]


def record_then_fail(db: Database) -> None:
    with db.begin() as connection:
        record_settings(
            connection, cluster_id=CLUSTER, at=at("2026-11-02"), settings=MeteringSettings()
        )
        raise RuntimeError("caller failed")


def test_an_exception_inside_begin_rolls_the_whole_transaction_back(db: Database) -> None:
    with pytest.raises(RuntimeError, match="caller failed"):
        record_then_fail(db)

    with db.begin() as connection:
        assert settings_history(connection, cluster_id=CLUSTER, until=at("2026-12-01")) == []


def test_database_errors_inside_begin_become_storage_errors(db: Database) -> None:
    with pytest.raises(StorageError, match="no_such_table") as failed, db.begin() as connection:
        connection.execute(text("SELECT * FROM no_such_table"))

    assert isinstance(failed.value.__cause__, SQLAlchemyError)


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    db = Database.open(sqlite_url(tmp_path / "store.db"))
    try:
        with db.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    finally:
        db.dispose()


@pytest.mark.postgres
def test_postgresql_connections_do_not_jit_compile_queries(postgres_url: str) -> None:
    db = Database.open(postgres_url)
    try:
        with db.read() as connection:
            assert connection.exec_driver_sql("SHOW jit").scalar() == "off"
    finally:
        db.dispose()


def test_sqlite_url_names_the_file_by_its_absolute_path(tmp_path: Path) -> None:
    path = tmp_path / "data dir" / "store.db"

    url = make_url(sqlite_url(path))

    assert url.get_backend_name() == "sqlite"
    assert url.database == str(path)


def test_a_sqlite_file_in_a_missing_directory_is_a_storage_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-directory" / "store.db"

    with pytest.raises(StorageError, match="no-such-directory"):
        Database.open(sqlite_url(missing))


@pytest.mark.parametrize(
    "url", ["mysql://user@localhost/db", "not a url", "oracle+cx_oracle://scott@host/db"]
)
def test_an_unsupported_database_url_is_refused_naming_the_supported_forms(url: str) -> None:
    with pytest.raises(StorageError, match="sqlite:///"):
        Database.open(url)


def test_an_unreachable_postgresql_server_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="cannot open database") as failed:
        Database.open("postgresql+psycopg://postgres@127.0.0.1:1/nothing")

    assert isinstance(failed.value.__cause__, SQLAlchemyError)


@pytest.mark.postgres
def test_a_bare_postgresql_url_uses_psycopg_3(postgres_url: str) -> None:
    bare = make_url(postgres_url).set(drivername="postgresql").render_as_string(False)

    db = Database.open(bare)
    try:
        assert db.dialect == "postgresql"
        assert db.engine.dialect.driver == "psycopg"
    finally:
        db.dispose()


def test_errors_never_show_the_database_password() -> None:
    url = make_url("postgresql+psycopg://user:secret@127.0.0.1:1/db")
    with pytest.raises(StorageError) as failed:
        Database.open(url.render_as_string(hide_password=False))
    assert "secret" not in str(failed.value)


def test_two_writers_that_read_first_both_commit_instead_of_one_failing(db: Database) -> None:
    """A writer reads, another writer commits meanwhile, then the first writes.

    With deferred transactions SQLite refuses the first writer at once ("database is
    locked"); writing transactions must queue instead.
    """
    first_has_read = threading.Event()
    second_done = threading.Event()
    errors: list[BaseException] = []

    def second_writer() -> None:
        first_has_read.wait(timeout=10)
        try:
            with db.begin() as connection:
                record_settings(
                    connection,
                    cluster_id=OTHER_CLUSTER,
                    at=at("2026-11-02"),
                    settings=MeteringSettings(threads_per_core=4),
                )
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)
        finally:
            second_done.set()

    thread = threading.Thread(target=second_writer)
    thread.start()
    with db.begin() as connection:
        settings_history(connection, cluster_id=CLUSTER, until=at("2026-11-03"))
        first_has_read.set()
        # Let the second writer commit now if the first one's transaction allows it.
        second_done.wait(timeout=1)
        record_settings(
            connection,
            cluster_id=CLUSTER,
            at=at("2026-11-01"),
            settings=MeteringSettings(threads_per_core=2),
        )
    thread.join(timeout=10)
    assert errors == []
    with db.read() as connection:
        first = settings_history(connection, cluster_id=CLUSTER, until=at("2026-11-03"))
        second = settings_history(connection, cluster_id=OTHER_CLUSTER, until=at("2026-11-03"))
    assert [change.settings.threads_per_core for change in first] == [2]
    assert [change.settings.threads_per_core for change in second] == [4]
