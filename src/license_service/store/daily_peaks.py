"""Daily peaks: per UTC day and row key, the highest value of that day (SPEC 2.7).

``record_daily_peaks`` folds one sample into its day with one bulk upsert per table
(a prepared statement, ``upserts.BulkInsert``): the value becomes the higher of the
stored and the new one, and the descriptive names (product, Cloud Pak, service)
become those of the latest sample of the day, whatever order samples arrive in.
Bundled products compare the measured quantity; the converted quantity is derived on
read from it and the stored ratio text (``conversion_of``).
``peaks_in_period`` is the one filter every report query uses.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final

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
)
from license_service.store.tables import (
    bundled_product_daily_peaks,
    product_daily_peaks,
    service_daily_peaks,
)
from license_service.store.upserts import BulkInsert, Excluded, bulk_insert

_SHARED: Final = ("cluster_id", "day", "names_at")


def _raising_peaks(
    table: Table, *, key: Sequence[str], value: str, names: Sequence[str]
) -> BulkInsert:
    """The upsert that raises a day's peaks in ``table``: the higher value wins, names follow
    the latest sample of the day."""

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

    return BulkInsert(
        table,
        columns=tuple(column.name for column in table.columns if column.name not in _SHARED),
        shared=_SHARED,
        key=("cluster_id", "day", *key),
        updates=updates,
    )


_PRODUCT_PEAKS: Final = _raising_peaks(
    product_daily_peaks, key=PRODUCT_KEY, value="quantity", names=("product_name",)
)
_BUNDLED_PRODUCT_PEAKS: Final = _raising_peaks(
    bundled_product_daily_peaks,
    key=BUNDLED_PRODUCT_KEY,
    value="measured_quantity",
    names=("product_name", "cloudpak_name", "cloudpak_version"),
)
_SERVICE_PEAKS: Final = _raising_peaks(
    service_daily_peaks,
    key=SERVICE_KEY,
    value="value",
    names=("product_name", "service_name"),
)


def record_daily_peaks(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    day: date,
    taken_at: datetime,
    rows: MeasurementRows,
) -> None:
    """Raise the peaks of ``day`` to the values in ``rows`` (a sample taken at ``taken_at``)."""
    shared = {"cluster_id": cluster_id, "day": day, "names_at": taken_at}
    for bulk, table_rows in (
        (_PRODUCT_PEAKS, rows.products),
        (_BUNDLED_PRODUCT_PEAKS, rows.bundled_products),
        (_SERVICE_PEAKS, rows.services),
    ):
        bulk_insert(connection, bulk, table_rows, shared=shared)


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
