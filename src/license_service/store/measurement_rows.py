"""A measurement as table rows: one row per key, with the column names of the tables.

The raw sample tables and the daily peak tables share these column names, so the
same rows feed both. Should a measurement list one key twice (a stand-alone
product whose id equals a Cloud Pak id, say), the higher value is kept: a key
has one value per sample. Pure: no database access.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from license_service.metering.usage import (
    BundledProductUsage,
    Measurement,
    ProductUsage,
    ServiceUsage,
)

Row = dict[str, Any]
_Usage = TypeVar("_Usage")

PRODUCT_KEY = ("product_id", "metric")
BUNDLED_PRODUCT_KEY = ("cloudpak_id", "cloudpak_metric", "product_id", "metric", "conversion")
SERVICE_KEY = ("cloudpak_id", "cloudpak_metric", "product_id", "metric", "service_id")


@dataclass(frozen=True, slots=True)
class MeasurementRows:
    """The rows of one measurement for the product, bundled product and service tables."""

    products: list[Row]
    bundled_products: list[Row]
    services: list[Row]


def measurement_rows(measurement: Measurement) -> MeasurementRows:
    """Split ``measurement`` into rows, one per key, keeping the higher value of a repeated key."""
    return MeasurementRows(
        products=_one_per_key(measurement.products, _product_row, PRODUCT_KEY, "quantity"),
        bundled_products=_one_per_key(
            measurement.bundled_products, _bundled_row, BUNDLED_PRODUCT_KEY, "measured_quantity"
        ),
        services=_one_per_key(measurement.services, _service_row, SERVICE_KEY, "value"),
    )


def _one_per_key(
    usages: Iterable[_Usage],
    to_row: Callable[[_Usage], Row],
    key: tuple[str, ...],
    value: str,
) -> list[Row]:
    rows: dict[Hashable, Row] = {}
    for usage in usages:
        row = to_row(usage)
        row_key = tuple(row[column] for column in key)
        kept = rows.get(row_key)
        if kept is None or row[value] > kept[value]:
            rows[row_key] = row
    return list(rows.values())


def _product_row(usage: ProductUsage) -> Row:
    return {
        "product_id": usage.id,
        "metric": usage.metric,
        "product_name": usage.name,
        "quantity": usage.quantity,
    }


def _bundled_row(usage: BundledProductUsage) -> Row:
    return {
        "cloudpak_id": usage.cloudpak_id,
        "cloudpak_metric": usage.cloudpak_metric,
        "product_id": usage.product_id,
        "metric": usage.metric,
        "conversion": str(usage.conversion),
        "product_name": usage.product_name,
        "cloudpak_name": usage.cloudpak_name,
        "cloudpak_version": usage.cloudpak_version,
        "measured_quantity": usage.measured_quantity,
    }


def _service_row(usage: ServiceUsage) -> Row:
    return {
        "cloudpak_id": usage.cloudpak_id,
        "cloudpak_metric": usage.cloudpak_metric,
        "product_id": usage.product_id,
        "metric": usage.metric,
        "service_id": usage.service_id,
        "product_name": usage.product_name,
        "service_name": usage.service_name,
        "value": usage.value,
    }
