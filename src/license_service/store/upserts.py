"""Insert-or-update in one bulk statement, on SQLite and PostgreSQL alike.

Both backends spell it ``INSERT ... ON CONFLICT (key) DO UPDATE``; this is the one
place that picks the dialect's construct. Rows go in a single executemany call, so a
sample of a thousand products costs one round trip per table, not one per row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.base import ReadOnlyColumnCollection

from license_service.errors import StorageError

Excluded = ReadOnlyColumnCollection[str, Any]
"""The proposed row (``excluded``) that a conflicting insert would have written."""


def upsert(
    connection: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    key: Sequence[str],
    updates: Callable[[Excluded], Mapping[str, ColumnElement[Any]]],
) -> None:
    """Insert ``rows``; where ``key`` already exists, set the columns ``updates`` returns.

    ``rows`` must not repeat a key (PostgreSQL refuses to update a row twice).
    """
    if not rows:
        return
    dialect = connection.dialect.name
    if dialect == "postgresql":
        pg_statement = postgresql.insert(table)
        statement: Insert = pg_statement.on_conflict_do_update(
            index_elements=list(key), set_=dict(updates(pg_statement.excluded))
        )
    elif dialect == "sqlite":
        lite_statement = sqlite.insert(table)
        statement = lite_statement.on_conflict_do_update(
            index_elements=list(key), set_=dict(updates(lite_statement.excluded))
        )
    else:
        raise StorageError(
            f"database dialect {dialect!r} is not supported: use SQLite or PostgreSQL"
        )
    connection.execute(statement, list(rows))
