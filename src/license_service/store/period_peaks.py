"""Period peaks (SPEC 2.7, 3.2, 3.3, 3.6): the highest daily peak of each row in a period.

For each row key, ``peak`` is the highest daily peak within the period, ``peak_date``
the earliest day that reached it, and the names are those of the latest day in the
period that has the row. One query per call computes all three in the database
(a grouping of the period's rows, then a look-up per key through the (cluster, row
key, day) index and the primary key; the same SQL on SQLite and PostgreSQL); rows
are then sorted in Python, the API's way, so both backends give the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, FromClause, Row, Table, func, select

from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.store.daily_peaks import conversion_of, peaks_in_period
from license_service.store.measurement_rows import (
    BUNDLED_PRODUCT_KEY,
    PRODUCT_KEY,
    SERVICE_KEY,
)
from license_service.store.report_rows import BundledProductPeak, ProductPeak, ServicePeak
from license_service.store.tables import (
    bundled_product_daily_peaks,
    product_daily_peaks,
    service_daily_peaks,
)


def product_peaks(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None = None,
) -> list[ProductPeak]:
    """The ``/products`` rows of ``period``, optionally only those of ``metric``."""
    rows = _period_peaks(
        connection,
        product_daily_peaks,
        key=PRODUCT_KEY,
        value="quantity",
        names=("product_name",),
        cluster_id=cluster_id,
        period=period,
        metric=metric,
    )
    return sorted(
        ProductPeak(
            name=row.product_name,
            id=row.product_id,
            metric=row.metric,
            peak_date=row.peak_date,
            quantity=row.quantity,
        )
        for row in rows
    )


def bundled_product_peaks(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None = None,
) -> list[BundledProductPeak]:
    """The ``/bundled_products`` rows of ``period``, optionally only those of ``metric``."""
    rows = _period_peaks(
        connection,
        bundled_product_daily_peaks,
        key=BUNDLED_PRODUCT_KEY,
        value="measured_quantity",
        names=("product_name", "cloudpak_name", "cloudpak_version"),
        cluster_id=cluster_id,
        period=period,
        metric=metric,
    )
    return sorted(
        BundledProductPeak(
            product_name=row.product_name,
            product_id=row.product_id,
            cloudpak_id=row.cloudpak_id,
            cloudpak_name=row.cloudpak_name,
            cloudpak_version=row.cloudpak_version,
            cloudpak_metric=row.cloudpak_metric,
            metric=row.metric,
            peak_date=row.peak_date,
            measured_quantity=row.measured_quantity,
            conversion=conversion_of(row.conversion),
        )
        for row in rows
    )


def service_peaks(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None = None,
) -> list[ServicePeak]:
    """The ``/services`` rows of ``period``, optionally only those of ``metric``."""
    rows = _period_peaks(
        connection,
        service_daily_peaks,
        key=SERVICE_KEY,
        value="value",
        names=("product_name", "service_name"),
        cluster_id=cluster_id,
        period=period,
        metric=metric,
    )
    return sorted(
        ServicePeak(
            cloudpak_id=row.cloudpak_id,
            cloudpak_metric=row.cloudpak_metric,
            product_name=row.product_name,
            product_id=row.product_id,
            metric=row.metric,
            service_name=row.service_name,
            service_id=row.service_id,
            peak_date=row.peak_date,
            value=row.value,
        )
        for row in rows
    )


def _period_peaks(
    connection: Connection,
    table: Table,
    *,
    key: Sequence[str],
    value: str,
    names: Sequence[str],
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None,
) -> Sequence[Row[*tuple[Any, ...]]]:
    """One row per key: the key, ``value`` (the peak), ``peak_date`` and the latest names.

    One pass over the period's rows groups them by key (the peak and the last day),
    which the (cluster, key, day, value) index hands over in key order, from the index
    alone; then, per key, that index finds the earliest day reaching the peak and the
    primary key the last day's names (correlated subqueries, run as index searches on
    both backends). The window functions used before sorted every row of the period.
    """
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
    statement = select(
        *(grouped.c[column] for column in key),
        grouped.c.peak.label(value),
        peak_date.scalar_subquery().label("peak_date"),
        *(select(last.c[name]).where(*last_day).scalar_subquery().label(name) for name in names),
    )
    return connection.execute(statement).all()


def _same_key(rows: FromClause, keys: FromClause, key: Sequence[str]) -> list[ColumnElement[bool]]:
    return [rows.c[column] == keys.c[column] for column in key]
