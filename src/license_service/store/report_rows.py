"""The rows the store reads back for reports: period peaks and daily values (SPEC 3, 5).

Fields follow the API rows of SPEC 3.2, 3.3 and 3.6 with the names used by
``metering.usage``; period rows add ``peak_date`` (``metricPeakDate``), daily rows
``day`` (the CSV's ``date``). Field order is the API's sort order, so ``sorted``
lists rows as the API does, identically on every backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from license_service.metering.ratios import Ratio


@dataclass(frozen=True, slots=True, order=True)
class ProductPeak:
    """A row of ``/products``: the highest daily peak of a product (or Cloud Pak) in a period."""

    name: str
    id: str
    metric: str
    peak_date: date
    quantity: int


@dataclass(frozen=True, slots=True, order=True)
class BundledProductPeak:
    """A row of ``/bundled_products``: the highest daily measured quantity in a period."""

    product_name: str
    product_id: str
    cloudpak_id: str
    cloudpak_name: str
    cloudpak_version: str
    cloudpak_metric: str
    metric: str
    peak_date: date
    measured_quantity: int
    conversion: Ratio

    @property
    def converted_quantity(self) -> Fraction:
        """The peak in Cloud Pak units, exact (``measured * b / a``)."""
        return self.conversion.convert(self.measured_quantity)


@dataclass(frozen=True, slots=True, order=True)
class ServicePeak:
    """A row of ``/services``: the highest daily value of one service in a period."""

    cloudpak_id: str
    cloudpak_metric: str
    product_name: str
    product_id: str
    metric: str
    service_name: str
    service_id: str
    peak_date: date
    value: int


@dataclass(frozen=True, slots=True, order=True)
class ProductDay:
    """A row of ``products_daily``: the daily peak of a product (or Cloud Pak) on ``day``."""

    day: date
    name: str
    id: str
    metric: str
    quantity: int


@dataclass(frozen=True, slots=True, order=True)
class BundledProductDay:
    """A row of ``bundled_products_daily``: the daily peak of a bundled product on ``day``."""

    day: date
    product_name: str
    product_id: str
    cloudpak_id: str
    cloudpak_name: str
    cloudpak_version: str
    cloudpak_metric: str
    metric: str
    measured_quantity: int
    conversion: Ratio

    @property
    def converted_quantity(self) -> Fraction:
        """The day's peak in Cloud Pak units, exact (``measured * b / a``)."""
        return self.conversion.convert(self.measured_quantity)


@dataclass(frozen=True, slots=True, order=True)
class ServiceDay:
    """The daily peak of one service of a bundled product on ``day``."""

    day: date
    cloudpak_id: str
    cloudpak_metric: str
    product_name: str
    product_id: str
    metric: str
    service_name: str
    service_id: str
    value: int
