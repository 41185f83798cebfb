"""Writing a push's thousands of rows fast: PostgreSQL's COPY, elsewhere ``bulk_insert``.

A push of 31 days carries a few thousand rows per table. On PostgreSQL, ``COPY ... FROM
STDIN`` takes them in one stream, the driver formatting each row in C; an
``INSERT ... SELECT FROM unnest(arrays)`` (``store.upserts``) formats every array element
in Python, several times slower at this size. An upsert goes through a temporary
table of the transaction (``ON COMMIT DROP``): COPY into it, then one
``INSERT ... SELECT ... ORDER BY key ON CONFLICT DO UPDATE`` into the real table (rows
in key order, so concurrent pushes never wait on each other in a circle). Elsewhere
(SQLite) both are ``store.upserts.bulk_insert``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, column, select, table
from sqlalchemy.dialects import postgresql

from license_service.errors import StorageError
from license_service.store.upserts import BulkInsert, bulk_insert


def copy_rows(
    connection: Connection,
    bulk: BulkInsert,
    rows: Sequence[Sequence[Any]],
    *,
    shared: Mapping[str, Any] | None = None,
) -> None:
    """Insert ``rows`` (values of ``bulk.columns``) plus the ``shared`` values: COPY on
    PostgreSQL; ``bulk`` must be a plain insert (no conflict key)."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        bulk_insert(connection, bulk, rows, shared=shared)
        return
    names = (*bulk.shared, *bulk.columns)
    given = tuple((shared or {})[name] for name in bulk.shared)
    with _cursor(connection, bulk) as cursor:
        _copy(cursor, connection, bulk.table.name, names, (given + tuple(row) for row in rows))


def copy_upsert(connection: Connection, bulk: BulkInsert, rows: Sequence[Sequence[Any]]) -> None:
    """Upsert ``rows`` (values of ``bulk.columns``, no key twice, no shared columns) by
    ``bulk``'s key and updates: through a COPY into a temporary table on PostgreSQL."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        bulk_insert(connection, bulk, rows)
        return
    quote = connection.dialect.identifier_preparer.quote
    staging = f"staging_{bulk.table.name}"
    with _cursor(connection, bulk) as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {quote(staging)} "
            f"(LIKE {quote(bulk.table.name)}) ON COMMIT DROP"
        )
        _copy(cursor, connection, staging, bulk.columns, rows)
        cursor.execute(_upsert_sql(bulk, staging, connection.dialect))
        # Empty again, should the transaction upsert into the same table once more.
        cursor.execute(f"DELETE FROM {quote(staging)}")  # noqa: S608 - our table's name


@contextlib.contextmanager
def _cursor(connection: Connection, bulk: BulkInsert) -> Iterator[Any]:
    """A cursor of the driver in the connection's transaction; its errors as StorageError."""
    driver: Any = connection.connection.driver_connection
    error: type[Exception] = connection.dialect.loaded_dbapi.Error
    try:
        with contextlib.closing(driver.cursor()) as cursor:
            yield cursor
    except error as exc:
        raise StorageError(f"cannot write {bulk.table.name}: {exc}") from exc


def _copy(
    cursor: Any,
    connection: Connection,
    table_name: str,
    names: Sequence[str],
    rows: Iterator[Sequence[Any]] | Sequence[Sequence[Any]],
) -> None:
    quote = connection.dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    with cursor.copy(f"COPY {quote(table_name)} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


_UPSERTS: dict[tuple[BulkInsert, str], str] = {}


def _upsert_sql(bulk: BulkInsert, staging: str, dialect: Dialect) -> str:
    """``INSERT INTO table SELECT ... FROM staging ORDER BY key ON CONFLICT ...`` (cached)."""
    found = _UPSERTS.get((bulk, staging))
    if found is not None:
        return found
    if bulk.updates is None or bulk.shared:
        raise StorageError(
            f"copy_upsert into {bulk.table.name} needs a conflict key and updates, and no "
            "shared columns"
        )
    source = table(staging, *(column(name) for name in bulk.columns))
    rows = select(*(source.c[name] for name in bulk.columns)).order_by(
        *(source.c[name] for name in bulk.key)
    )
    statement = postgresql.insert(bulk.table).from_select(list(bulk.columns), rows)
    statement = statement.on_conflict_do_update(
        index_elements=list(bulk.key),
        set_=dict(bulk.updates(statement.excluded)),
        where=bulk.only(statement.excluded) if bulk.only else None,
    )
    sql = str(statement.compile(dialect=dialect))
    _UPSERTS[(bulk, staging)] = sql
    return sql
