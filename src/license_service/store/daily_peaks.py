"""Daily peaks: per UTC day and row key, the highest value of that day (SPEC 2.7).

``record_daily_peaks`` folds one sample into its day with one bulk upsert per table:
the value becomes the higher of the stored and the new one, and the descriptive names
(product, Cloud Pak, service) become those of the latest sample of the day, whatever
order samples arrive in. Bundled products compare the measured quantity; the converted
quantity is derived on read from it and the stored ratio text (``conversion_of``).
``peaks_in_period`` is the one filter every report query uses.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, case

from license_service.errors import AnnotationError, StorageError
from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.metering.ratios import Ratio, parse_ratio
from license_service.store.measurement_rows import (
    BUNDLED_PRODUCT_KEY,
    PRODUCT_KEY,
    SERVICE_KEY,
    MeasurementRows,
    Row,
)
from license_service.store.tables import (
    bundled_product_daily_peaks,
    product_daily_peaks,
    service_daily_peaks,
)
from license_service.store.upserts import Excluded, upsert


def record_daily_peaks(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    day: date,
    taken_at: datetime,
    rows: MeasurementRows,
) -> None:
    """Raise the peaks of ``day`` to the values in ``rows`` (a sample taken at ``taken_at``)."""
    for table, table_rows, key, value, names in (
        (product_daily_peaks, rows.products, PRODUCT_KEY, "quantity", ("product_name",)),
        (
            bundled_product_daily_peaks,
            rows.bundled_products,
            BUNDLED_PRODUCT_KEY,
            "measured_quantity",
            ("product_name", "cloudpak_name", "cloudpak_version"),
        ),
        (
            service_daily_peaks,
            rows.services,
            SERVICE_KEY,
            "value",
            ("product_name", "service_name"),
        ),
    ):
        _raise_peaks(
            connection,
            table,
            [
                {**row, "cluster_id": cluster_id, "day": day, "names_at": taken_at}
                for row in table_rows
            ],
            key=key,
            value=value,
            names=names,
        )


def _raise_peaks(
    connection: Connection,
    table: Table,
    rows: Sequence[Row],
    *,
    key: Sequence[str],
    value: str,
    names: Sequence[str],
) -> None:
    def updates(new: Excluded) -> Mapping[str, ColumnElement[Any]]:
        stored = table.c
        later = new.names_at >= stored.names_at
        changes: dict[str, ColumnElement[Any]] = {
            value: case((new[value] > stored[value], new[value]), else_=stored[value]),
            "names_at": case((later, new.names_at), else_=stored.names_at),
        }
        for name in names:
            changes[name] = case((later, new[name]), else_=stored[name])
        return changes

    upsert(connection, table, rows, key=("cluster_id", "day", *key), updates=updates)


def peaks_in_period(
    table: Table, *, cluster_id: ClusterId, period: DatePeriod, metric: str | None
) -> list[ColumnElement[bool]]:
    """The conditions selecting the daily peaks of ``table`` in ``period`` (and ``metric``)."""
    conditions = [
        table.c.cluster_id == cluster_id,
        table.c.day >= period.first,
        table.c.day <= period.last,
    ]
    if metric is not None:
        conditions.append(table.c.metric == metric)
    return conditions


@functools.lru_cache(maxsize=256)
def conversion_of(text: str) -> Ratio:
    """The ratio stored as ``text`` (written by ``str(Ratio)``), exact."""
    try:
        return parse_ratio(text)
    except AnnotationError as exc:
        raise StorageError(
            f"stored conversion {text!r} is not a ratio: the database was altered by hand; "
            "restore it from a backup"
        ) from exc
