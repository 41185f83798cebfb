"""Opening the database: engine, connection settings and schema migration.

``Database.open`` brings an empty or older database to the newest schema with the
Alembic migrations shipped in this package. A database stamped with a revision this
code does not know was written by a newer License Service: it is refused with
``SchemaTooNewError`` and not altered. A SQLite file is looked at first
(``sqlite_files``): one that fails ``PRAGMA quick_check`` is refused with
``DamagedDatabaseError`` and left unchanged, and a caller that expects data
(``if_empty="refuse"``) gets ``EmptyDatabaseError`` instead of a new, empty store.
A SQLite file this process cannot write (or whose directory it cannot write), and one
that is not a database, are refused with a ``StorageError`` that says so
(``sqlite_access``), never with SQLAlchemy's text.
SQLite connections get write-ahead logging, foreign keys and a busy timeout,
PostgreSQL connections no JIT compilation; SQLAlchemy errors leave ``begin()`` as
``StorageError``.

``data_version`` counts the writing transactions (``begin()``) that have ended, so a
cache of anything read from the store can tell, without I/O, that it may be stale;
``add_write_listener`` is told after each one. Writes made another way (``engine``
directly, or another process on the same database) are not counted, unless
``notify_other_replicas`` is on (PostgreSQL, several replicas: ``write_notifications``):
then each writing transaction tells the others, the others' writes count here too, and
while the notifications cannot be heard every read counts as after a write. A
short-lived writer (a CLI command) that only tells, without listening, calls
``announce_writes``. On a SQLite file, ``notice_file_writes`` counts the commits of
other processes instead (``sqlite_file_writes``: asked at each ``data_version``).
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from license_service.errors import EmptyDatabaseError, SchemaTooNewError, StorageError
from license_service.store.sqlite_access import open_problem, write_problem
from license_service.store.sqlite_file_writes import SqliteFileWrites
from license_service.store.sqlite_files import IfDamaged, IfEmpty, check_sqlite_file
from license_service.store.write_notifications import (
    WriteNotifications,
    new_origin,
    notify_write,
)

logger = logging.getLogger(__name__)

MIGRATIONS: Final = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS: Final = 10_000
POSTGRES_CONNECT_TIMEOUT_SECONDS: Final = 10
"""How long a new PostgreSQL connection may take, unless the URL's ``connect_timeout`` says:
libpq waits forever for a host that drops packets, which would hang /health and reports."""
# Any fixed number: replicas starting together on one PostgreSQL migrate one at a time.
_MIGRATION_LOCK_KEY: Final = 0x4C_53_4D_49_47_52
_SUPPORTED: Final = "use sqlite:///<path of a file> or postgresql://<user>@<host>:<port>/<database>"


@dataclass(frozen=True, slots=True)
class Schema:
    """Whose tables a database holds: their migrations, Alembic's version table, a name.

    License Service's by default; the Reporter keeps its own (``fleet.fleet_schema``), so
    the two never migrate each other's tables, even in one PostgreSQL schema.
    """

    migrations: Path
    version_table: str = "alembic_version"
    holder: str = "License Service"


LICENSE_SERVICE_SCHEMA: Final = Schema(MIGRATIONS)


def sqlite_url(path: Path) -> str:
    """The URL of the SQLite database file at ``path`` (made absolute)."""
    return URL.create("sqlite+pysqlite", database=str(path.resolve())).render_as_string()


class Database:
    """An open, migrated database; hand its connections to the store functions."""

    def __init__(self, engine: Engine) -> None:
        """Wrap an engine whose schema is already current; use ``Database.open`` instead."""
        self._engine = engine
        self._data_version = 0
        self._version_lock = threading.Lock()
        self._write_listeners: list[weakref.ref[Callable[[], None]]] = []
        self._origin = new_origin()
        self._notifications: WriteNotifications | None = None
        self._announcing = False
        self._file_writes: SqliteFileWrites | None = None

    @classmethod
    def open(
        cls,
        url: str,
        *,
        if_empty: IfEmpty = "create",
        if_damaged: IfDamaged = "refuse",
        schema: Schema = LICENSE_SERVICE_SCHEMA,
    ) -> Database:
        """Connect to ``url`` and migrate it to the newest schema.

        ``if_empty="refuse"``: a database without the store's tables (a SQLite file absent
        or of 0 bytes included) raises ``EmptyDatabaseError`` and is not created.
        ``if_damaged="set aside"``: a damaged SQLite file is renamed and a new one begun.
        Raises ``SchemaTooNewError`` when the database was written by a newer version,
        ``DamagedDatabaseError`` when a SQLite file fails its integrity check, and
        ``StorageError`` when it cannot be reached or migrated.
        """
        engine = _create_engine(url)
        file = sqlite_file_of(engine.url)
        problem = write_problem(file) if file is not None else None
        if problem is not None:
            engine.dispose()
            raise StorageError(problem)
        try:
            if file is not None:
                check_sqlite_file(
                    file,
                    if_empty=if_empty,
                    if_damaged=if_damaged,
                    now=lambda: datetime.now(UTC),
                )
            _migrate(engine, if_empty=if_empty, schema=schema)
        except (SQLAlchemyError, CommandError) as exc:
            engine.dispose()
            if file is not None and isinstance(exc, SQLAlchemyError):
                raise StorageError(open_problem(file, exc)) from exc
            raise StorageError(
                f"cannot open database {_shown(engine.url)}: {_said(exc)}; check that the "
                "server is running and the URL is right"
            ) from exc
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for tools that need it; prefer ``begin``)."""
        return self._engine

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    @property
    def url(self) -> str:
        """The database URL with any password hidden, for messages and status pages."""
        return _shown(self._engine.url)

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        """One writing transaction: committed when the block ends, rolled back on an exception.

        On SQLite it takes the write lock at once (``BEGIN IMMEDIATE``), so two writers
        queue behind the busy timeout instead of one failing with "database is locked".
        When the block ends, ``data_version`` advances and the write listeners are told.
        """
        try:
            with self._engine.begin() as connection:
                yield connection
                if self._announcing:
                    notify_write(connection, origin=self._origin)
        except SQLAlchemyError as exc:
            raise StorageError(f"database {self.url}: {exc}") from exc
        finally:
            # Also after a failure: a commit whose answer was lost may still have happened,
            # and a needless advance only costs a cache its contents.
            self._advance_version()

    @property
    def hears_writes(self) -> bool:
        """False while other replicas' writes cannot be heard (``data_version`` then moves
        at every call, so nothing kept is reused and nothing is worth computing ahead)."""
        notifications = self._notifications
        return notifications is None or notifications.listening

    @property
    def data_version(self) -> int:
        """How many writing transactions (``begin``) have ended; read it before reading data.

        A value read before a read transaction starts is never newer than what that
        transaction sees, as the count advances only after each commit. While other
        replicas' writes cannot be heard, every call advances it.
        """
        notifications = self._notifications
        if notifications is not None and not notifications.listening:
            with self._version_lock:
                self._data_version += 1
        file_writes = self._file_writes
        if file_writes is not None and file_writes.changed():
            self._advance_version()
        return self._data_version

    def notify_other_replicas(self) -> WriteNotifications:
        """Tell other processes of each write, and count theirs (PostgreSQL only).

        Several replicas on one database use it so that none answers from a cache
        older than another's write. Stopped by ``dispose``.
        """
        if self.dialect != "postgresql":
            raise StorageError(
                f"database {self.url}: only PostgreSQL can tell replicas of each other's "
                "writes; several replicas need a PostgreSQL --database-url"
            )
        self._announcing = True
        if self._notifications is None:
            self._notifications = WriteNotifications(
                self._engine, origin=self._origin, on_write=self._advance_version
            )
            self._notifications.start()
        return self._notifications

    def notice_file_writes(self) -> None:
        """Count every commit to this SQLite file, other processes' too (a CLI command's).

        For a SQLite database served by one process while commands may write it; a
        no-op elsewhere (PostgreSQL: ``notify_other_replicas``). Stopped by ``dispose``.
        """
        file = sqlite_file_of(self._engine.url)
        if file is not None and self._file_writes is None:
            self._file_writes = SqliteFileWrites(file)

    def announce_writes(self) -> None:
        """Tell listening replicas of each write of this process, without listening to theirs.

        For writers of the same database outside the serving processes (a CLI command):
        their writes then drop the replicas' cached reports too. PostgreSQL only; a
        no-op on SQLite, which has no way to tell another process.
        """
        if self.dialect == "postgresql":
            self._announcing = True

    def add_write_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (no arguments) after each writing transaction, in the writer's thread.

        It is held weakly (a bound method lives as long as its object) and must be quick
        and not raise; an exception is logged and does not reach the writer.
        """
        held: weakref.ref[Callable[[], None]] = (
            weakref.WeakMethod(listener) if inspect.ismethod(listener) else weakref.ref(listener)
        )
        with self._version_lock:
            self._write_listeners.append(held)

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """One reading transaction that sees a single state of the store.

        It never takes SQLite's write lock, so readers and the sampler never wait for
        each other; on PostgreSQL it is REPEATABLE READ, so every query in it agrees.
        """
        try:
            with self._engine.connect() as connection:
                connection.execution_options(**{_READ_ONLY: True})
                if self.dialect == "postgresql":
                    connection.execution_options(isolation_level="REPEATABLE READ")
                with connection.begin():
                    yield connection
        except SQLAlchemyError as exc:
            raise StorageError(f"database {self.url}: {exc}") from exc

    def connect(self) -> Connection:
        """A connection for reading (``with db.connect() as conn``); writes need ``begin``."""
        try:
            return self._engine.connect()
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot connect to database {self.url}: {exc}") from exc

    def dispose(self) -> None:
        """Close every pooled connection; the object must not be used afterwards."""
        if self._notifications is not None:
            self._notifications.stop()
        if self._file_writes is not None:
            self._file_writes.close()
        self._engine.dispose()

    def _advance_version(self) -> None:
        with self._version_lock:
            self._data_version += 1
            self._write_listeners = [held for held in self._write_listeners if held() is not None]
            listeners = [held() for held in self._write_listeners]
        for listener in listeners:
            if listener is None:
                continue
            try:
                listener()
            except Exception:
                logger.exception("A write listener of database %s failed", self.url)


def shown_url(raw: str) -> str:
    """``raw`` as ``Database.url`` shows it once opened: the driver named, no password."""
    return _shown(_parsed_url(raw))


def sqlite_file_of(url: URL | str) -> Path | None:
    """The file of a SQLite database URL, or ``None`` (PostgreSQL, in-memory SQLite)."""
    parsed = _parsed_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.query.get("mode") == "memory":
        return None
    return Path(parsed.database)


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _said(error: Exception) -> str:
    """The driver's own words, without SQLAlchemy's statement and "background" link."""
    cause = error.orig if isinstance(error, DBAPIError) else None
    return " ".join(str(cause if cause is not None else error).split())


def _parsed_url(raw: str) -> URL:
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        # Unparsed, the password cannot be hidden: show the text only when it has none.
        shown = raw if "@" not in raw else raw.split("://", 1)[0] + "://***"
        raise StorageError(f"database URL {shown!r} is not a URL: {_SUPPORTED}") from exc
    if url.drivername in ("postgresql", "postgres"):
        # psycopg 3 is the driver this project installs; a bare postgresql:// means it.
        url = url.set(drivername="postgresql+psycopg")
    return url


def _create_engine(raw: str) -> Engine:
    url = _parsed_url(raw)
    backend = url.get_backend_name()
    if backend not in ("postgresql", "sqlite"):
        raise StorageError(
            f"database URL {_shown(url)}: backend {backend!r} is not supported; {_SUPPORTED}"
        )
    connect_args: dict[str, Any] = {}
    if backend == "postgresql" and "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT_SECONDS
    try:
        engine = create_engine(
            url, pool_pre_ping=backend == "postgresql", connect_args=connect_args
        )
    except (ArgumentError, NoSuchModuleError) as exc:
        raise StorageError(f"database URL {_shown(url)} cannot be used: {exc}") from exc
    if backend == "sqlite":
        event.listen(engine, "connect", _configure_sqlite_connection)
        event.listen(engine, "begin", _begin_sqlite_transaction)
    else:
        event.listen(engine, "connect", _configure_postgresql_connection)
    return engine


# PostgreSQL 11 brought JIT compilation (and the setting that turns it off).
_FIRST_WITH_JIT: Final = 110000

# Execution option marking the connections of ``Database.read``.
_READ_ONLY = "license_service_read_only"


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Take BEGIN away from the sqlite3 module (see _begin_sqlite_transaction) so that
    # reads and DDL happen inside the transaction too.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        # Readers do not block the sampler, and the sampler does not block readers.
        cursor.execute("PRAGMA journal_mode = WAL")
    finally:
        cursor.close()


def _configure_postgresql_connection(dbapi_connection: Any, _record: Any) -> None:
    # The store's queries are short, but a period query's correlated look-ups make the
    # planner's cost estimate large enough to JIT-compile it: measured, compiling took
    # seconds, the query itself half a second.
    if dbapi_connection.info.server_version < _FIRST_WITH_JIT:
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET jit = off")
    finally:
        cursor.close()
    dbapi_connection.commit()


def _begin_sqlite_transaction(connection: Connection) -> None:
    reading = connection.get_execution_options().get(_READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def _alembic_config(schema: Schema = LICENSE_SERVICE_SCHEMA) -> Config:
    config = Config()
    # ConfigParser interpolates '%': a path holding one must be escaped.
    config.set_main_option("script_location", str(schema.migrations).replace("%", "%%"))
    return config


def _migrate(engine: Engine, *, if_empty: IfEmpty, schema: Schema) -> None:
    config = _alembic_config(schema)
    script = ScriptDirectory.from_config(config)
    known = {revision.revision for revision in script.walk_revisions()}
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
            )
        context = MigrationContext.configure(
            connection, opts={"version_table": schema.version_table}
        )
        current = set(context.get_current_heads())
        if not current and if_empty == "refuse":
            raise EmptyDatabaseError(
                f"database {_shown(engine.url)} holds no {schema.holder} tables (it is empty)"
            )
        unknown = sorted(current - known)
        if unknown:
            raise SchemaTooNewError(
                f"database {_shown(engine.url)} has schema revision {', '.join(unknown)}, "
                f"which this version of {schema.holder} does not know (its newest is "
                f"{', '.join(sorted(script.get_heads()))}): it was written by a newer version. "
                "Run that newer version, or restore a backup made before the upgrade; "
                "the database was left unchanged"
            )
        if current != set(script.get_heads()):
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
