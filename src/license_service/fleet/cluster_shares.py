"""Which clusters make up a key's daily fleet sums (SPEC 11): for the Reporter's charts.

A chart of a product stacks its daily fleet sum by cluster. A fleet may hold hundreds
of clusters, so the page draws the few largest and one band for the others: these
reads hand back only that much. ``clusters_by_total`` ranks the clusters by their total
of the key over the period (one aggregate in the database, never rows x clusters);
``cluster_values`` reads those clusters' daily values of the key. The "others" band is
the fleet sum (``fleet_store.fleet_daily_sums``) minus these, computed by the caller.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, Table, and_, func, select
from sqlalchemy.sql.elements import ColumnElement

from license_service.fleet.tables import FLEET_PEAK_TABLES
from license_service.metering.periods import DatePeriod
from license_service.metering.row_specs import RowSpec


def clusters_by_total(
    connection: Connection, rows: RowSpec[Any], period: DatePeriod, *, key: Hashable
) -> list[str]:
    """The ids of the clusters with ``key`` in ``period``, the highest total over the
    period first (ties by cluster id): one row per cluster."""
    table = FLEET_PEAK_TABLES[rows]
    value = table.c[rows.database_value]
    total = func.sum(value).label("total")
    query = (
        select(table.c.cluster_id, total)
        .where(_of_key(table, rows, key), table.c.day.between(period.first, period.last))
        .group_by(table.c.cluster_id)
        .order_by(total.desc(), table.c.cluster_id)
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
    values: Sequence[Any] = key if isinstance(key, tuple) else (key,)
    return and_(
        *(table.c[name] == value for name, value in zip(rows.database_key, values, strict=True))
    )
