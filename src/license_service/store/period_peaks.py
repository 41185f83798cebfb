"""Period peaks (SPEC 2.7, 3.2, 3.3, 3.6): the highest daily peak of each row in a period.

For each row key, ``peak`` is the highest daily peak within the period, ``peak_date``
the earliest day that reached it, and the names are those of the latest day in the
period that has the row. One query per call computes all three in the database
(window functions, available on SQLite and PostgreSQL); rows are then sorted in
Python, the API's way, so both backends give the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, Table, case, func, select

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
    """One row per key: the key, ``value`` (the peak), ``peak_date`` and the latest names."""
    key_columns = [table.c[column] for column in key]
    days = (
        select(
            *key_columns,
            table.c.day,
            table.c[value],
            *(table.c[name] for name in names),
            func.max(table.c[value]).over(partition_by=key_columns).label("peak"),
            func.max(table.c.day).over(partition_by=key_columns).label("last_day"),
        )
        .where(*peaks_in_period(table, cluster_id=cluster_id, period=period, metric=metric))
        .subquery()
    )
    day = days.c.day
    statement = select(
        *(days.c[column] for column in key),
        func.max(days.c.peak).label(value),
        func.min(case((days.c[value] == days.c.peak, day))).label("peak_date"),
        *(func.max(case((day == days.c.last_day, days.c[name]))).label(name) for name in names),
    ).group_by(*(days.c[column] for column in key))
    return connection.execute(statement).all()
