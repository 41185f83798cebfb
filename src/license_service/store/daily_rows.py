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
from license_service.store.tables import daily_peak_table

BATCH_ROWS: Final = 5_000

DayRows = tuple[str, list[StoredRow]]
"""A day with data (``YYYY-MM-DD``) and its rows, stored form, in the API's order."""

_cursor_numbers = itertools.count(1)


def rows_by_day(
    connection: Connection,
    rows: RowSpec[Any],
    *,
    cluster_id: ClusterId | None,
    period: DatePeriod,
    metric: str | None = None,
    table: Table | None = None,
) -> Iterator[DayRows]:
    """The daily peaks of kind ``rows`` in ``period``, by day, each day in the API's order.

    ``table`` reads another table of the same usage columns and ``day`` (the Reporter's
    ``fleet_*`` tables); ``cluster_id`` ``None`` reads every row of it (a table without
    clusters: the Reporter's fleet sums).
    """
    source = daily_peak_table(rows) if table is None else table
    if cluster_id is None and "cluster_id" in source.c:
        raise ValueError(f"rows_by_day of {source.name} needs a cluster_id: rows of clusters mix")
    query = _DailyQuery(source, rows.database_fields, cluster_id, period, metric)
    by_day = _streamed_by_day if connection.dialect.name == "postgresql" else _queried_day_by_day
    days = by_day(connection, query)
    for position, column in enumerate(rows.stored):
        if not column.encoding.sorts_as_stored:
            ahead = [column.attribute for column in rows.stored[:position]]
            return _in_value_order(days, rows, before=rows.getter(ahead))
    return days


@dataclass(frozen=True, slots=True)
class _DailyQuery:
    """The rows asked for: ``columns`` of ``table``, of one cluster (and metric), in ``period``."""

    table: Table
    columns: tuple[str, ...]
    cluster_id: ClusterId | None
    period: DatePeriod
    metric: str | None

    def statement(
        self,
        *days: ColumnElement[bool],
        collation: str,
        day_text: ColumnElement[str] | None = None,
    ) -> Select[Any]:
        """The rows on ``days``, each day's in the API's order with text compared byte by byte
        (``collation``); with ``day_text``, led by it and sorted by day first. Every value
        is a bound parameter."""
        table = self.table
        conditions = [*days]
        if self.cluster_id is not None:
            conditions.append(
                table.c.cluster_id == bindparam("cluster_id", self.cluster_id, type_=String)
            )
        if self.metric is not None:
            conditions.append(table.c.metric == bindparam("metric", self.metric, type_=String))
        columns = [table.c[name] for name in self.columns]
        order = [
            column.collate(collation) if isinstance(column.type, String) else column
            for column in columns
        ]
        if day_text is None:
            return select(*columns).where(*conditions).order_by(*order)
        return select(day_text, *columns).where(*conditions).order_by(table.c.day, *order)


def _queried_day_by_day(connection: Connection, query: _DailyQuery) -> Iterator[DayRows]:
    """SQLite: one query per day of the period (its Date columns hold ``YYYY-MM-DD`` text)."""
    table = query.table
    statement = query.statement(
        table.c.day == bindparam("day", "", type_=String), collation="BINARY"
    )
    driver_statement = _DriverStatement.of(connection, statement)
    with _driver_cursor(connection, table) as cursor:
        for day in query.period:
            text = day.isoformat()
            cursor.execute(driver_statement.sql, driver_statement.parameters(day=text))
            rows = cursor.fetchall()
            if rows:
                yield text, rows


def _streamed_by_day(connection: Connection, query: _DailyQuery) -> Iterator[DayRows]:
    """PostgreSQL: the whole period through one server-side cursor, grouped by day."""
    table = query.table
    statement = query.statement(
        table.c.day >= bindparam("first", query.period.first),
        table.c.day <= bindparam("last", query.period.last),
        collation="C",
        day_text=func.to_char(table.c.day, "YYYY-MM-DD"),
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
