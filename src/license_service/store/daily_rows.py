"""Daily rows of a period (SPEC 5 ``*_daily`` files): one row per key per day with data.

Rows stream one day at a time, by day, as ``(day, rows)``: the day as ``YYYY-MM-DD``
text and its rows as plain tuples, in the API's order, straight from the database.
Queries select only the columns the files print or the period rows need and sort in
SQL with a binary collation (SQLite's default, ``COLLATE "C"`` on PostgreSQL):
comparing UTF-8 bytes is comparing code points, which is how Python compares ``str``,
so every backend gives the order ``sorted`` gives the API's rows. The one exception is
a bundled product's conversion, whose order is that of the ratio's numbers, not of
its text: rows that tie on every column before it are put in the ratio's order here.

Rows come from the driver's own cursor, skipping SQLAlchemy's per-row objects. SQLite
answers in-process, so it is asked one day at a time (no day column to convert on
every row, and small sorts); PostgreSQL streams the whole period through one
server-side cursor, ``BATCH_ROWS`` rows per round trip. Either way only about a day
of rows is held at once, so 731 days of 1,000 products never load together. Iterate
while the connection is open.

``product_days`` and friends hand out the same rows as ``report_rows`` dataclasses.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from typing import Any, Final, TypeVar

from sqlalchemy import ColumnElement, Connection, Select, String, Table, bindparam, func, select

from license_service.errors import StorageError
from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.store.daily_peaks import conversion_of
from license_service.store.report_rows import BundledProductDay, ProductDay, ServiceDay
from license_service.store.tables import (
    bundled_product_daily_peaks,
    product_daily_peaks,
    service_daily_peaks,
)

BATCH_ROWS: Final = 5_000

ProductRow = tuple[str, str, str, int]
"""``(name, id, metric, quantity)``: a ``ProductDay`` without its day."""

BundledRow = tuple[str, str, str, str, str, str, str, int, str]
"""``(product_name, product_id, cloudpak_id, cloudpak_name, cloudpak_version,
cloudpak_metric, metric, measured_quantity, conversion)``: a ``BundledProductDay``
without its day, the conversion as stored (``a:b``)."""

ServiceRow = tuple[str, str, str, str, str, str, str, int]
"""``(cloudpak_id, cloudpak_metric, product_name, product_id, metric, service_name,
service_id, value)``: a ``ServiceDay`` without its day."""

_Row = TypeVar("_Row", ProductRow, BundledRow, ServiceRow)
DayRows = tuple[str, list[_Row]]
"""A day with data (``YYYY-MM-DD``) and its rows in the API's order."""

_PRODUCT_COLUMNS: Final = ("product_name", "product_id", "metric", "quantity")
_BUNDLED_COLUMNS: Final = (
    "product_name",
    "product_id",
    "cloudpak_id",
    "cloudpak_name",
    "cloudpak_version",
    "cloudpak_metric",
    "metric",
    "measured_quantity",
    "conversion",
)
_SERVICE_COLUMNS: Final = (
    "cloudpak_id",
    "cloudpak_metric",
    "product_name",
    "product_id",
    "metric",
    "service_name",
    "service_id",
    "value",
)
# A bundled row's columns before its conversion: rows equal in these sort by the ratio.
_BEFORE_CONVERSION: Final = itemgetter(*range(8))
_CONVERSION: Final = 8
_cursor_numbers = itertools.count(1)


def product_rows_by_day(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None = None,
) -> Iterator[DayRows[ProductRow]]:
    """The daily peaks of products (and Cloud Paks) in ``period``, by day then as ``/products``."""
    return _rows_by_day(
        connection,
        product_daily_peaks,
        _PRODUCT_COLUMNS,
        cluster_id=cluster_id,
        period=period,
        metric=metric,
    )


def bundled_product_rows_by_day(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None = None,
) -> Iterator[DayRows[BundledRow]]:
    """The daily peaks of bundled products in ``period``, by day then as ``/bundled_products``."""
    for day, rows in _rows_by_day(
        connection,
        bundled_product_daily_peaks,
        _BUNDLED_COLUMNS,
        cluster_id=cluster_id,
        period=period,
        metric=metric,
    ):
        yield day, _in_ratio_order(rows)


def service_rows_by_day(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None = None,
) -> Iterator[DayRows[ServiceRow]]:
    """The daily values of services in ``period``, by day then as ``/services``."""
    return _rows_by_day(
        connection,
        service_daily_peaks,
        _SERVICE_COLUMNS,
        cluster_id=cluster_id,
        period=period,
        metric=metric,
    )


def product_days(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None = None,
) -> Iterator[ProductDay]:
    """``product_rows_by_day`` one ``ProductDay`` at a time."""
    for day, rows in product_rows_by_day(
        connection, cluster_id=cluster_id, period=period, metric=metric
    ):
        when = date.fromisoformat(day)
        for row in rows:
            yield ProductDay(when, *row)


def bundled_product_days(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None = None,
) -> Iterator[BundledProductDay]:
    """``bundled_product_rows_by_day`` one ``BundledProductDay`` at a time."""
    for day, rows in bundled_product_rows_by_day(
        connection, cluster_id=cluster_id, period=period, metric=metric
    ):
        when = date.fromisoformat(day)
        for row in rows:
            yield BundledProductDay(when, *row[:7], row[7], conversion_of(row[8]))


def service_days(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None = None,
) -> Iterator[ServiceDay]:
    """``service_rows_by_day`` one ``ServiceDay`` at a time."""
    for day, rows in service_rows_by_day(
        connection, cluster_id=cluster_id, period=period, metric=metric
    ):
        when = date.fromisoformat(day)
        for row in rows:
            yield ServiceDay(when, *row[:7], row[7])


def _rows_by_day(
    connection: Connection,
    table: Table,
    columns: tuple[str, ...],
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None,
) -> Iterator[DayRows[Any]]:
    by_day = _streamed_by_day if connection.dialect.name == "postgresql" else _queried_day_by_day
    return by_day(connection, table, columns, cluster_id=cluster_id, period=period, metric=metric)


def _queried_day_by_day(
    connection: Connection,
    table: Table,
    columns: tuple[str, ...],
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None,
) -> Iterator[DayRows[Any]]:
    """SQLite: one query per day of the period (its Date columns hold ``YYYY-MM-DD`` text)."""
    conditions = [
        table.c.cluster_id == bindparam("cluster_id", cluster_id, type_=String),
        table.c.day == bindparam("day", "", type_=String),
    ]
    if metric is not None:
        conditions.append(table.c.metric == bindparam("metric", metric, type_=String))
    statement = (
        select(*(table.c[name] for name in columns))
        .where(*conditions)
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
) -> Iterator[DayRows[Any]]:
    """PostgreSQL: the whole period through one server-side cursor, grouped by day."""
    conditions: list[ColumnElement[bool]] = [
        table.c.cluster_id == bindparam("cluster_id", cluster_id, type_=String),
        table.c.day >= bindparam("first", period.first),
        table.c.day <= bindparam("last", period.last),
    ]
    if metric is not None:
        conditions.append(table.c.metric == bindparam("metric", metric, type_=String))
    statement = (
        select(func.to_char(table.c.day, "YYYY-MM-DD"), *(table.c[name] for name in columns))
        .where(*conditions)
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


def _in_ratio_order(rows: list[BundledRow]) -> list[BundledRow]:
    """``rows`` (one day's) with each run tied before the conversion in the ratio's order."""
    before = list(map(_BEFORE_CONVERSION, rows))
    if not any(map(tuple.__eq__, before, itertools.islice(before, 1, None))):
        return rows
    ordered: list[BundledRow] = []
    for _, run in itertools.groupby(rows, key=_BEFORE_CONVERSION):
        tied = list(run)
        if len(tied) > 1:
            tied.sort(key=lambda row: conversion_of(row[_CONVERSION]))
        ordered += tied
    return ordered
