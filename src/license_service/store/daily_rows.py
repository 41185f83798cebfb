"""Daily rows of a period (SPEC 5 ``*_daily`` files): one row per key per day with data.

The rows stream: the database hands them over in batches (a server-side cursor on
PostgreSQL) ordered by day, and only one day is held in memory at a time, to be
sorted the API's way in Python (so every backend gives the same order). 731 days of
1,000 products never load at once. Iterate while the connection is open.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any, Final, TypeVar

from sqlalchemy import Connection, Row, Table, select

from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.store.daily_peaks import conversion_of, peaks_in_period
from license_service.store.report_rows import BundledProductDay, ProductDay, ServiceDay
from license_service.store.tables import (
    bundled_product_daily_peaks,
    product_daily_peaks,
    service_daily_peaks,
)

BATCH_ROWS: Final = 2_000
_Day = TypeVar("_Day", ProductDay, BundledProductDay, ServiceDay)


def product_days(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None = None,
) -> Iterator[ProductDay]:
    """The daily peaks of products (and Cloud Paks) in ``period``, by day then as ``/products``."""

    def to_day(row: Row[Any]) -> ProductDay:
        return ProductDay(
            day=row.day,
            name=row.product_name,
            id=row.product_id,
            metric=row.metric,
            quantity=row.quantity,
        )

    return _days(
        connection, product_daily_peaks, to_day, cluster_id=cluster_id, period=period, metric=metric
    )


def bundled_product_days(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None = None,
) -> Iterator[BundledProductDay]:
    """The daily peaks of bundled products in ``period``, by day then as ``/bundled_products``."""

    def to_day(row: Row[Any]) -> BundledProductDay:
        return BundledProductDay(
            day=row.day,
            product_name=row.product_name,
            product_id=row.product_id,
            cloudpak_id=row.cloudpak_id,
            cloudpak_name=row.cloudpak_name,
            cloudpak_version=row.cloudpak_version,
            cloudpak_metric=row.cloudpak_metric,
            metric=row.metric,
            measured_quantity=row.measured_quantity,
            conversion=conversion_of(row.conversion),
        )

    return _days(
        connection,
        bundled_product_daily_peaks,
        to_day,
        cluster_id=cluster_id,
        period=period,
        metric=metric,
    )


def service_days(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None = None,
) -> Iterator[ServiceDay]:
    """The daily values of services in ``period``, by day then as ``/services``."""

    def to_day(row: Row[Any]) -> ServiceDay:
        return ServiceDay(
            day=row.day,
            cloudpak_id=row.cloudpak_id,
            cloudpak_metric=row.cloudpak_metric,
            product_name=row.product_name,
            product_id=row.product_id,
            metric=row.metric,
            service_name=row.service_name,
            service_id=row.service_id,
            value=row.value,
        )

    return _days(
        connection, service_daily_peaks, to_day, cluster_id=cluster_id, period=period, metric=metric
    )


def _days(
    connection: Connection,
    table: Table,
    to_day: Callable[[Row[Any]], _Day],
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None,
) -> Iterator[_Day]:
    statement = (
        select(table)
        .where(*peaks_in_period(table, cluster_id=cluster_id, period=period, metric=metric))
        .order_by(table.c.day)
        .execution_options(yield_per=BATCH_ROWS)
    )
    with connection.execute(statement) as result:
        for _, rows in itertools.groupby(result, key=lambda row: row.day):
            yield from sorted(to_day(row) for row in rows)
