"""Usage rows as the database holds them: a measurement's rows to write, and rows read back.

``measurement_rows`` turns a measurement into the rows of the usage tables: plain
tuples in the order of their specification's ``database_columns`` (key, names, value;
a ratio as its ``a:b`` text). The raw sample tables and the daily peak tables share
these columns, so the same rows feed both. Should a measurement list one key twice (a
stand-alone product whose id equals a Cloud Pak id, say), the higher value is kept: a
key has one value per sample. ``decoded`` reads a row back from its stored form and
raises ``StorageError`` when the database holds what no sample wrote. Pure: no
database access.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from license_service.errors import AnnotationError, StorageError
from license_service.metering.row_specs import R, RowSpec
from license_service.metering.usage import Measurement
from license_service.metering.usage_rows import (
    BUNDLED_PRODUCT_ROWS,
    CHARGEBACK_ROWS,
    PRODUCT_ROWS,
    SERVICE_ROWS,
)

StoredRow = tuple[Any, ...]
"""A usage row as a table holds it, in its specification's ``database_columns`` order."""


@dataclass(frozen=True, slots=True)
class MeasurementRows:
    """The rows of one measurement for the product, bundled product and service tables."""

    products: list[StoredRow]
    bundled_products: list[StoredRow]
    services: list[StoredRow]

    def by_kind(self) -> tuple[tuple[RowSpec[Any], list[StoredRow]], ...]:
        """Each kind of row (its specification) with its rows."""
        return (
            (PRODUCT_ROWS, self.products),
            (BUNDLED_PRODUCT_ROWS, self.bundled_products),
            (SERVICE_ROWS, self.services),
        )


def measurement_rows(measurement: Measurement) -> MeasurementRows:
    """Split ``measurement`` into rows, one per key, keeping the higher value of a repeated key."""
    return MeasurementRows(
        products=stored_rows(PRODUCT_ROWS, measurement.products),
        bundled_products=stored_rows(BUNDLED_PRODUCT_ROWS, measurement.bundled_products),
        services=stored_rows(SERVICE_ROWS, measurement.services),
    )


def group_rows(groups: Mapping[str, Measurement]) -> dict[RowSpec[Any], list[StoredRow]]:
    """The chargeback groups' measurements as rows of the group tables (``CHARGEBACK_ROWS``):
    each group's stored rows with its name first (the group key's first column)."""
    found: dict[RowSpec[Any], list[StoredRow]] = {kind: [] for kind in CHARGEBACK_ROWS.values()}
    for group, measurement in groups.items():
        for kind, kind_rows in measurement_rows(measurement).by_kind():
            found[CHARGEBACK_ROWS[kind]].extend((group, *row) for row in kind_rows)
    return found


def stored_rows(rows: RowSpec[R], usages: Iterable[R]) -> list[StoredRow]:
    """``usages`` as table rows, one per key: of a repeated key, the higher value."""
    width = len(rows.database_key)
    kept: dict[Hashable, StoredRow] = {}
    for usage in usages:
        row = rows.to_stored(usage)
        key = row[:width]
        earlier = kept.get(key)
        if earlier is None or row[-1] > earlier[-1]:
            kept[key] = row
    return list(kept.values())


def decoded(rows: RowSpec[R], values: Sequence[Any]) -> R:
    """The row stored as ``values`` (in ``database_fields`` order)."""
    try:
        return rows.from_stored(values)
    except AnnotationError as exc:
        raise StorageError(
            f"stored {rows.row_type.__name__} {tuple(values)!r} cannot be read ({exc}): the "
            "database was altered by hand; restore it from a backup"
        ) from exc
