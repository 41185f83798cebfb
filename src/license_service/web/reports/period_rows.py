"""Period peaks as the rows of ``/products``, ``/bundled_products`` and ``/services``.

Pure. Keys are the SPEC's (3.2, 3.3, 3.6), exact and in the SPEC's order; dates are
``YYYY-MM-DD``. ``*_COLUMNS`` list the keys in order: the CSV header of each endpoint,
and ``*_cells`` give the same row's CSV cells in that order, for the audit package's
CSV writer (same quoting and formula guard as the snapshot's files, without their
``clusterId`` column). ``metricConvertedQuantity`` is, in JSON, an int when whole and
a float otherwise (``1.5``, ``metering.api_rows.json_number``); in CSV, the snapshot's
exact decimal text (``audit.decimal_numbers``).
"""

from __future__ import annotations

from typing import Final, TypedDict

from license_service.audit.csv_files import Cell
from license_service.audit.decimal_numbers import decimal_text
from license_service.metering.api_rows import json_number
from license_service.store.report_rows import BundledProductPeak, ProductPeak, ServicePeak


class ProductPeakRow(TypedDict):
    """A ``/products`` row (SPEC 3.2)."""

    name: str
    id: str
    metricName: str
    metricPeakDate: str
    metricQuantity: int


class BundledProductPeakRow(TypedDict):
    """A ``/bundled_products`` row (SPEC 3.3)."""

    productName: str
    productId: str
    cloudpakId: str
    cloudpakName: str
    cloudpakVersion: str
    cloudpakMetricName: str
    metricName: str
    metricPeakDate: str
    metricMeasuredQuantity: int
    metricConversion: str
    metricConvertedQuantity: int | float


class ServicePeakRow(TypedDict):
    """A ``/services`` row (SPEC 3.6)."""

    cloudpakId: str
    cloudpakMetricName: str
    productName: str
    productId: str
    metricName: str
    serviceName: str
    serviceId: str
    serviceMetricValue: int
    metricPeakDate: str


PRODUCT_COLUMNS: Final = tuple(ProductPeakRow.__annotations__)
BUNDLED_PRODUCT_COLUMNS: Final = tuple(BundledProductPeakRow.__annotations__)
SERVICE_COLUMNS: Final = tuple(ServicePeakRow.__annotations__)


def product_peak_row(peak: ProductPeak) -> ProductPeakRow:
    """The ``/products`` row of ``peak``."""
    return {
        "name": peak.name,
        "id": peak.id,
        "metricName": peak.metric,
        "metricPeakDate": peak.peak_date.isoformat(),
        "metricQuantity": peak.quantity,
    }


def bundled_product_peak_row(peak: BundledProductPeak) -> BundledProductPeakRow:
    """The ``/bundled_products`` row of ``peak``; the converted quantity may be fractional."""
    return {
        "productName": peak.product_name,
        "productId": peak.product_id,
        "cloudpakId": peak.cloudpak_id,
        "cloudpakName": peak.cloudpak_name,
        "cloudpakVersion": peak.cloudpak_version,
        "cloudpakMetricName": peak.cloudpak_metric,
        "metricName": peak.metric,
        "metricPeakDate": peak.peak_date.isoformat(),
        "metricMeasuredQuantity": peak.measured_quantity,
        "metricConversion": str(peak.conversion),
        "metricConvertedQuantity": json_number(peak.converted_quantity),
    }


def service_peak_row(peak: ServicePeak) -> ServicePeakRow:
    """The ``/services`` row of ``peak``."""
    return {
        "cloudpakId": peak.cloudpak_id,
        "cloudpakMetricName": peak.cloudpak_metric,
        "productName": peak.product_name,
        "productId": peak.product_id,
        "metricName": peak.metric,
        "serviceName": peak.service_name,
        "serviceId": peak.service_id,
        "serviceMetricValue": peak.value,
        "metricPeakDate": peak.peak_date.isoformat(),
    }


def product_peak_cells(peak: ProductPeak) -> tuple[Cell, ...]:
    """The CSV cells of the ``/products`` row of ``peak``, in ``PRODUCT_COLUMNS`` order."""
    return (peak.name, peak.id, peak.metric, peak.peak_date, peak.quantity)


def bundled_product_peak_cells(peak: BundledProductPeak) -> tuple[Cell, ...]:
    """The CSV cells of the ``/bundled_products`` row of ``peak``."""
    return (
        peak.product_name,
        peak.product_id,
        peak.cloudpak_id,
        peak.cloudpak_name,
        peak.cloudpak_version,
        peak.cloudpak_metric,
        peak.metric,
        peak.peak_date,
        peak.measured_quantity,
        str(peak.conversion),
        decimal_text(peak.converted_quantity),
    )


def service_peak_cells(peak: ServicePeak) -> tuple[Cell, ...]:
    """The CSV cells of the ``/services`` row of ``peak``."""
    return (
        peak.cloudpak_id,
        peak.cloudpak_metric,
        peak.product_name,
        peak.product_id,
        peak.metric,
        peak.service_name,
        peak.service_id,
        peak.value,
        peak.peak_date,
    )
