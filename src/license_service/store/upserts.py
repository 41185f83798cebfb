"""Bulk inserts and insert-or-update, as prepared statements, on SQLite and PostgreSQL alike.

Both backends spell an upsert ``INSERT ... ON CONFLICT (key) DO UPDATE``; this is the
one place that picks the dialect's construct. A ``BulkInsert`` names a table, the
columns each row brings, the columns every row shares (the cluster id, the day, the
sample) and, for an upsert, the conflict key and the updates. ``bulk_insert`` runs it
for many rows as one call of the driver:

- the statement is compiled once per dialect and kept (``BulkInsert`` values are
  meant to be module constants), so a sample of a thousand products costs one round
  trip per table and no SQL compilation; on PostgreSQL it is a single statement
  reading one array per column (``unnest``), not one insert per row;
- rows come as tuples of the values of ``columns`` (``store.stored_rows``); shared
  values go through their column type once, per-row values only where their type has
  a bind processor (strings and integers have none), and each row becomes a plain
  tuple for the driver (on PostgreSQL, one list per column): SQLAlchemy's per-row
  parameter processing, most of the cost of a thousand rows, is skipped.

``rows`` must not repeat a key of an upsert (PostgreSQL refuses to update a row twice).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Dialect,
    Insert,
    Table,
    bindparam,
    cast,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.base import ReadOnlyColumnCollection

from license_service.errors import StorageError

Excluded = ReadOnlyColumnCollection[str, Any]
"""The proposed row (``excluded``) that a conflicting insert would have written."""

Updates = Callable[[Excluded], Mapping[str, ColumnElement[Any]]]
"""Given the proposed row, the columns an upsert sets on the stored one, and to what."""

Only = Callable[[Excluded], ColumnElement[bool]]
"""Given the proposed row, when a conflicting upsert updates the stored one at all."""

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class BulkInsert:
    """An insert of many rows into ``table``: an upsert when ``key`` is given.

    ``columns`` come from each row, ``shared`` from one mapping given for all rows.
    ``updates`` (with ``key``) says what a conflicting row changes in the stored one;
    ``only`` (optional) when it changes it at all: other conflicting rows are left as stored.
    """

    table: Table
    columns: tuple[str, ...]
    shared: tuple[str, ...] = ()
    key: tuple[str, ...] = ()
    updates: Updates | None = None
    only: Only | None = None

    def __post_init__(self) -> None:
        if bool(self.key) != (self.updates is not None):
            raise StorageError(
                f"bulk insert into {self.table.name}: give both the conflict key and the "
                "updates for an upsert, or neither for a plain insert"
            )


@dataclass(frozen=True, slots=True)
class _Prepared:
    sql: str
    # A positional statement's parameters from (*shared values, *row values), as a tuple.
    order: Callable[[tuple[Any, ...]], tuple[Any, ...]]
    positional: bool
    columnar: bool
    processors: Mapping[str, _Processor]


def bulk_insert(
    connection: Connection,
    bulk: BulkInsert,
    rows: Sequence[Sequence[Any]],
    *,
    shared: Mapping[str, Any] | None = None,
) -> None:
    """Write ``rows`` (each the values of ``bulk.columns``, in that order) plus the ``shared``
    values in one executemany."""
    if not rows:
        return
    prepared = _prepared(bulk, connection.dialect)
    processors = prepared.processors
    common = {name: _processed(processors[name], value) for name, value in (shared or {}).items()}
    missing = set(bulk.shared) - set(common)
    if missing:
        raise StorageError(
            f"bulk insert into {bulk.table.name}: no value for the shared columns "
            f"{sorted(missing)}; pass them in `shared`"
        )
    per_row = [
        (position, processor)
        for position, name in enumerate(bulk.columns)
        if (processor := processors[name])
    ]
    if per_row:
        rows = [_processed_row(row, per_row) for row in rows]
    if prepared.columnar:
        columns = dict(zip(bulk.columns, map(list, zip(*rows, strict=True)), strict=True))
        connection.exec_driver_sql(prepared.sql, {**common, **columns})
        return
    if prepared.positional:
        # The driver takes the parameters in the compiled statement's order.
        shared_values = tuple(common[name] for name in bulk.shared)
        take = prepared.order
        connection.exec_driver_sql(prepared.sql, [take((*shared_values, *row)) for row in rows])
    else:
        connection.exec_driver_sql(
            prepared.sql, [{**common, **dict(zip(bulk.columns, row, strict=True))} for row in rows]
        )


def _processed_row(
    row: Sequence[Any], processors: list[tuple[int, Callable[[Any], Any]]]
) -> list[Any]:
    values = list(row)
    for position, processor in processors:
        values[position] = processor(values[position])
    return values


def _processed(processor: _Processor, value: Any) -> Any:
    return value if processor is None else processor(value)


# Compiled statements by (bulk insert, dialect name, parameter style): dialects of one
# name and style compile them alike. Bulk inserts are module constants, so this stays
# small; a race between threads only compiles a statement twice.
_PREPARED: dict[tuple[BulkInsert, str, str], _Prepared] = {}


def _prepared(bulk: BulkInsert, dialect: Dialect) -> _Prepared:
    cache_key = (bulk, dialect.name, dialect.paramstyle)
    prepared = _PREPARED.get(cache_key)
    if prepared is None:
        prepared = _PREPARED[cache_key] = _prepare(bulk, dialect)
    return prepared


def _prepare(bulk: BulkInsert, dialect: Dialect) -> _Prepared:
    """Compile ``bulk`` for ``dialect``: the SQL, its parameter order and type processors."""
    names = (*bulk.shared, *bulk.columns)
    columnar = dialect.name == "postgresql"
    statement = _columnar_statement(bulk) if columnar else _statement(bulk, dialect)
    compiled = statement.compile(dialect=dialect, column_keys=list(names))
    positional = bool(compiled.positional)
    order = tuple(compiled.positiontup or ()) if positional else names
    if positional and sorted(order) != sorted(names):
        raise StorageError(
            f"bulk insert into {bulk.table.name} compiled to parameters {order}, expected "
            f"{names}: an update refers to a bound value, which bulk inserts do not support"
        )
    # The dialect's own type (``dialect_impl``): a TypeDecorator's plain ``bind_processor``
    # skips its implementation's, and SQLite would store instants in the driver's text,
    # not SQLAlchemy's (``...12:45:00`` against ``...12:45:00.000000``): equal instants
    # would then compare unequal with what every other statement binds.
    processors = {
        column: bulk.table.c[column].type.dialect_impl(dialect).bind_processor(dialect)
        for column in names
    }
    return _Prepared(compiled.string, _reordering(names, order), positional, columnar, processors)


def _reordering(
    given: tuple[str, ...], wanted: tuple[str, ...]
) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """A function putting values named ``given`` (in that order) in the ``wanted`` order."""
    if given == wanted:
        return _same
    positions = [given.index(name) for name in wanted]
    if len(positions) == 1:
        (position,) = positions
        return lambda values: (values[position],)
    take: Callable[[tuple[Any, ...]], tuple[Any, ...]] = operator.itemgetter(*positions)
    return take


def _same(values: tuple[Any, ...]) -> tuple[Any, ...]:
    return values


def _columnar_statement(bulk: BulkInsert) -> Insert:
    """PostgreSQL: one ``INSERT ... SELECT ... FROM unnest(<one array per column>)``.

    A single statement with one array parameter per column, however many rows: the
    server plans and runs it once, where an executemany runs one insert per row.
    """
    table = bulk.table
    incoming = (
        func.unnest(*(cast(bindparam(name), ARRAY(table.c[name].type)) for name in bulk.columns))
        .table_valued(*bulk.columns)
        .render_derived(name="incoming")
    )
    rows = select(
        *(cast(bindparam(name), table.c[name].type) for name in bulk.shared),
        *(incoming.c[name] for name in bulk.columns),
    )
    statement = postgresql.insert(table).from_select([*bulk.shared, *bulk.columns], rows)
    if bulk.updates is None:
        return statement
    return statement.on_conflict_do_update(
        index_elements=list(bulk.key),
        set_=dict(bulk.updates(statement.excluded)),
        where=bulk.only(statement.excluded) if bulk.only else None,
    )


def _statement(bulk: BulkInsert, dialect: Dialect) -> Insert:
    if bulk.updates is None:
        return bulk.table.insert()
    if dialect.name == "postgresql":
        pg_statement = postgresql.insert(bulk.table)
        return pg_statement.on_conflict_do_update(
            index_elements=list(bulk.key),
            set_=dict(bulk.updates(pg_statement.excluded)),
            where=bulk.only(pg_statement.excluded) if bulk.only else None,
        )
    if dialect.name == "sqlite":
        lite_statement = sqlite.insert(bulk.table)
        return lite_statement.on_conflict_do_update(
            index_elements=list(bulk.key),
            set_=dict(bulk.updates(lite_statement.excluded)),
            where=bulk.only(lite_statement.excluded) if bulk.only else None,
        )
    raise StorageError(
        f"database dialect {dialect.name!r} is not supported: use SQLite or PostgreSQL"
    )
