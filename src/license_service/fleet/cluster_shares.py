"""Which clusters make up a key's daily fleet sums (SPEC 11): for the Reporter's charts.

A chart of a product stacks its daily fleet sum by cluster. A fleet may hold hundreds
of clusters, so the page draws the few largest and one band for the others: these
reads hand back only that much. ``clusters_on_day`` ranks the clusters by their value
of the key on one day (the page takes the fleet's peak day: the clusters that make the
license position), reading that day's rows only; ``cluster_values`` reads those
clusters' daily values of the key over the period. The "others" band is the fleet sum
(``fleet_store.fleet_daily_sums``) minus these, computed by the caller.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable
from datetime import date
from typing import Any

from sqlalchemy import Connection, Table, and_, func, select
from sqlalchemy.sql.elements import ColumnElement

from license_service.fleet.tables import FLEET_PEAK_TABLES
from license_service.metering.periods import DatePeriod
from license_service.metering.row_specs import RowSpec


def clusters_on_day(
    connection: Connection, rows: RowSpec[Any], *, key: Hashable, day: date
) -> list[str]:
    """The ids of the clusters with ``key`` on ``day``, the highest value first (ties by
    cluster id): a read of one day's rows (the day index), however long the period."""
    table = FLEET_PEAK_TABLES[rows]
    value = func.sum(table.c[rows.database_value]).label("value")
    query = (
        select(table.c.cluster_id, value)
        .where(table.c.day == day, _of_key(table, rows, key))
        .group_by(table.c.cluster_id)
        .order_by(value.desc(), table.c.cluster_id)
    )
    return [row.cluster_id for row in connection.execute(query)]


def cluster_values(
    connection: Connection,
    rows: RowSpec[Any],
    period: DatePeriod,
    *,
    key: Hashable,
    cluster_ids: Collection[str],
) -> dict[str, dict[date, int]]:
    """Per cluster of ``cluster_ids`` and day of ``period``, its daily peak of ``key``
    (rows of one key with other names on one day are added, as the fleet sums do)."""
    if not cluster_ids:
        return {}
    table = FLEET_PEAK_TABLES[rows]
    value = table.c[rows.database_value]
    query = select(table.c.cluster_id, table.c.day, value).where(
        _of_key(table, rows, key),
        table.c.day.between(period.first, period.last),
        table.c.cluster_id.in_(list(cluster_ids)),
    )
    found: dict[str, dict[date, int]] = {}
    for cluster_id, day, quantity in connection.execute(query):
        by_day = found.setdefault(cluster_id, {})
        by_day[day] = by_day.get(day, 0) + int(quantity)
    return found


def _of_key(table: Table, rows: RowSpec[Any], key: Hashable) -> ColumnElement[bool]:
    """The condition that a row of ``table`` holds ``key`` (a row spec's key, one or more)."""
    return and_(
        *(
            table.c[name] == value
            for name, value in zip(rows.database_key, _values(key), strict=True)
        )
    )


def _values(key: Hashable) -> tuple[Any, ...]:
    """A row spec's key as the tuple of its columns' values (a key of one column is bare)."""
    return key if isinstance(key, tuple) else (key,)
