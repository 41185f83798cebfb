"""Period peaks (SPEC 2.7, 3.2, 3.3, 3.6): the highest daily peak of each row in a period.

For each row key, the value is the highest daily peak within the period, ``peak_date``
the earliest day that reached it, and the names are those of the latest day in the
period that has the row: the rule of ``metering.period_peaks``, which property tests
hold this query equal to. One query per call computes all three in the database (a
grouping of the period's rows, then a look-up per key through the (cluster, row key,
day) index and the primary key; the same SQL on SQLite and PostgreSQL), written from
the row specification's key, names and value; rows are then decoded and sorted in
Python, the API's way, so both backends give the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, FromClause, Row, func, select

from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.metering.row_specs import PeriodPeak, R, RowSpec
from license_service.store.daily_peaks import peaks_in_period
from license_service.store.stored_rows import decoded
from license_service.store.tables import usage_tables


def period_peaks(
    connection: Connection,
    rows: RowSpec[R],
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None = None,
) -> list[PeriodPeak[R]]:
    """The rows of kind ``rows`` (``/products``, ...) of ``period``, optionally of ``metric``."""
    found = _period_peaks(connection, rows, cluster_id=cluster_id, period=period, metric=metric)
    return rows.sorted_peaks(PeriodPeak(decoded(rows, row[:-1]), row[-1]) for row in found)


def _period_peaks(
    connection: Connection,
    rows: RowSpec[Any],
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None,
) -> Sequence[Row[*tuple[Any, ...]]]:
    """One row per key: its stored fields (the value is the peak, the names the latest
    day's) in ``database_fields`` order, then the peak date.

    One pass over the period's rows groups them by key (the peak and the last day),
    which the (cluster, key, day, value) index hands over in key order, from the index
    alone; then, per key, that index finds the earliest day reaching the peak and the
    primary key the last day's names (correlated subqueries, run as index searches on
    both backends). The window functions used before sorted every row of the period.
    """
    table = usage_tables(rows).daily_peaks
    key, value = rows.database_key, rows.database_value
    grouped = (
        select(
            *(table.c[column] for column in key),
            func.max(table.c[value]).label("peak"),
            func.max(table.c.day).label("last_day"),
        )
        .where(*peaks_in_period(table, cluster_id=cluster_id, period=period, metric=metric))
        .group_by(*(table.c[column] for column in key))
        .subquery("period_keys")
    )
    peak_days = table.alias("peak_days")
    peak_date = select(func.min(peak_days.c.day)).where(
        *_same_key(peak_days, grouped, key),
        peak_days.c.cluster_id == cluster_id,
        peak_days.c.day >= period.first,
        peak_days.c.day <= period.last,
        peak_days.c[value] == grouped.c.peak,
    )
    last = table.alias("last_day")
    last_day = [
        last.c.cluster_id == cluster_id,
        last.c.day == grouped.c.last_day,
        *_same_key(last, grouped, key),
    ]
    selected: dict[str, Any] = {column: grouped.c[column] for column in key}
    selected[value] = grouped.c.peak
    for name in rows.database_names:
        selected[name] = select(last.c[name]).where(*last_day).scalar_subquery()
    statement = select(
        *(selected[column].label(column) for column in rows.database_fields),
        peak_date.scalar_subquery().label("peak_date"),
    )
    return connection.execute(statement).all()


def _same_key(rows: FromClause, keys: FromClause, key: Sequence[str]) -> list[ColumnElement[bool]]:
    return [rows.c[column] == keys.c[column] for column in key]
