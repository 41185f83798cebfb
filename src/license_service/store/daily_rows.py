"""Daily rows of a period (SPEC 5 ``*_daily`` files): one row per key per day with data.

``rows_by_day`` is the fast path: rows stream one day at a time, by day, as
``(day, rows)``: the day as ``YYYY-MM-DD`` text and its rows in their stored form
(plain tuples of the row specification's ``database_fields``, a ratio as its ``a:b``
text), in the API's order, straight from the database. Read them by name through the
specification (``key_of``, ``value_of``, ``getter``), never by position. Queries
select only the row's columns and sort in SQL with a binary collation (SQLite's
default, ``COLLATE "C"`` on PostgreSQL): comparing UTF-8 bytes is comparing code
points, which is how Python compares ``str``, so every backend gives the order
``sorted`` gives the API's rows. The one exception is a column whose stored text does
not sort as its value (a bundled product's conversion, whose order is that of the
ratio's numbers): rows that tie on every column before it are put in the value's
order here.

Rows come from the driver's own cursor, skipping SQLAlchemy's per-row objects. SQLite
answers in-process, so it is asked one day at a time (no day column to convert on
every row, and small sorts); PostgreSQL streams the whole period through one
server-side cursor, ``BATCH_ROWS`` rows per round trip. Either way only about a day
of rows is held at once, so 731 days of 1,000 products never load together. Iterate
while the connection is open.
"""

from __future__ import annotations

import contextlib
import itertools
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Final

from sqlalchemy import ColumnElement, Connection, Select, String, Table, bindparam, func, select

from license_service.errors import StorageError
from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.metering.row_specs import RowSpec
from license_service.store.stored_rows import StoredRow, decoded
from license_service.store.tables import usage_tables

BATCH_ROWS: Final = 5_000

DayRows = tuple[str, list[StoredRow]]
"""A day with data (``YYYY-MM-DD``) and its rows, stored form, in the API's order."""

_cursor_numbers = itertools.count(1)


def rows_by_day(
    connection: Connection,
    rows: RowSpec[Any],
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None = None,
) -> Iterator[DayRows]:
    """The daily peaks of kind ``rows`` in ``period``, by day, each day in the API's order."""
    table = usage_tables(rows).daily_peaks
    by_day = _streamed_by_day if connection.dialect.name == "postgresql" else _queried_day_by_day
    days = by_day(
        connection,
        table,
        rows.database_fields,
        cluster_id=cluster_id,
        period=period,
        metric=metric,
    )
    for position, column in enumerate(rows.stored):
        if not column.encoding.sorts_as_stored:
            ahead = [column.attribute for column in rows.stored[:position]]
            return _in_value_order(days, rows, before=rows.getter(ahead))
    return days


def _queried_day_by_day(
    connection: Connection,
    table: Table,
    columns: tuple[str, ...],
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None,
) -> Iterator[DayRows]:
    """SQLite: one query per day of the period (its Date columns hold ``YYYY-MM-DD`` text)."""
    day_is = table.c.day == bindparam("day", "", type_=String)
    statement = (
        select(*(table.c[name] for name in columns))
        .where(*_conditions(table, cluster_id, metric, day_is))
        .order_by(*_binary_order(table, columns, collation="BINARY"))
    )
    driver_statement = _DriverStatement.of(connection, statement)
    with _driver_cursor(connection, table) as cursor:
        for day in period:
            text = day.isoformat()
            cursor.execute(driver_statement.sql, driver_statement.parameters(day=text))
            rows = cursor.fetchall()
            if rows:
                yield text, rows


def _streamed_by_day(
    connection: Connection,
    table: Table,
    columns: tuple[str, ...],
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None,
) -> Iterator[DayRows]:
    """PostgreSQL: the whole period through one server-side cursor, grouped by day."""
    first = table.c.day >= bindparam("first", period.first)
    last = table.c.day <= bindparam("last", period.last)
    statement = (
        select(func.to_char(table.c.day, "YYYY-MM-DD"), *(table.c[name] for name in columns))
        .where(*_conditions(table, cluster_id, metric, first, last))
        .order_by(table.c.day, *_binary_order(table, columns, collation="C"))
    )
    driver_statement = _DriverStatement.of(connection, statement)
    day_of = itemgetter(0)
    with _driver_cursor(connection, table, server_side=True) as cursor:
        cursor.execute(driver_statement.sql, driver_statement.parameters())
        waiting: list[Any] = []
        while batch := cursor.fetchmany(BATCH_ROWS):
            # The last day of a batch may go on in the next one: it waits for it.
            rows = waiting + batch if waiting else batch
            last_day = rows[-1][0]
            cut = len(rows)
            while cut > 0 and rows[cut - 1][0] == last_day:
                cut -= 1
            waiting = rows[cut:]
            for day, group in itertools.groupby(rows[:cut], key=day_of):
                yield day, [row[1:] for row in group]
        if waiting:
            yield waiting[0][0], [row[1:] for row in waiting]


def _conditions(
    table: Table, cluster_id: ClusterId, metric: str | None, *days: ColumnElement[bool]
) -> list[ColumnElement[bool]]:
    """The rows of ``cluster_id`` (and ``metric``) on ``days``, with bound parameters."""
    conditions = [table.c.cluster_id == bindparam("cluster_id", cluster_id, type_=String), *days]
    if metric is not None:
        conditions.append(table.c.metric == bindparam("metric", metric, type_=String))
    return conditions


def _binary_order(table: Table, columns: tuple[str, ...], *, collation: str) -> list[Any]:
    """``columns`` to sort by, text compared byte by byte."""
    return [
        table.c[name].collate(collation)
        if isinstance(table.c[name].type, String)
        else table.c[name]
        for name in columns
    ]


@dataclass(frozen=True, slots=True)
class _DriverStatement:
    """A statement as the driver takes it: SQL, and parameters by name or in order."""

    sql: str
    values: dict[str, Any]
    # The parameters' order for a positional driver; empty when it takes names.
    order: tuple[str, ...]

    @classmethod
    def of(cls, connection: Connection, statement: Select[Any]) -> _DriverStatement:
        compiled: Any = statement.compile(dialect=connection.dialect)
        order = tuple(compiled.positiontup or ()) if compiled.positional else ()
        return cls(compiled.string, dict(compiled.construct_params()), order)

    def parameters(self, **changes: Any) -> Any:
        """The parameters, with ``changes``, as the driver takes them."""
        values = {**self.values, **changes}
        return tuple(values[name] for name in self.order) if self.order else values


@contextlib.contextmanager
def _driver_cursor(
    connection: Connection, table: Table, *, server_side: bool = False
) -> Iterator[Any]:
    """A cursor of the connection's driver; the driver's errors leave as ``StorageError``."""
    driver: Any = connection.connection.driver_connection
    error: type[Exception] = connection.dialect.loaded_dbapi.Error
    try:
        # A named cursor stays on the server: rows come over as they are fetched.
        cursor = (
            driver.cursor(name=f"license_service_daily_rows_{next(_cursor_numbers)}")
            if server_side
            else driver.cursor()
        )
        with contextlib.closing(cursor):
            yield cursor
    except error as exc:
        raise StorageError(f"cannot read {table.name}: {exc}") from exc


def _in_value_order(
    days: Iterator[DayRows], rows: RowSpec[Any], *, before: Callable[[StoredRow], Any]
) -> Iterator[DayRows]:
    """``days`` with each day's runs tied on ``before`` (the columns ahead of the first one
    that does not sort as stored) put in the order of their decoded values."""
    for day, day_rows in days:
        keys = list(map(before, day_rows))
        if not any(map(operator.eq, keys, itertools.islice(keys, 1, None))):
            yield day, day_rows
            continue
        ordered: list[StoredRow] = []
        for _, run in itertools.groupby(day_rows, key=before):
            tied = list(run)
            if len(tied) > 1:
                tied.sort(key=lambda values: decoded(rows, values))
            ordered += tied
        yield day, ordered
