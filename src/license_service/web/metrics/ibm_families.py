"""IBM's usage metric families (SPEC 13) and their label scheme, built in one place.

IBM License Service's dashboards read these names and labels; every family starts from
the labels of ``product_license_usage`` (``usage_labels``) and adds its own:

- ``product_license_usage``: ``productId``, ``productName``, ``metricId``, ``value`` (the
  quantity as exact decimal text, e.g. ``1.5``) and ``date`` (the UTC day the value
  belongs to); a bundled product's sample also keeps ``parentProductId`` and
  ``parentMetricId`` (the labels it carried before SPEC 13);
- ``product_license_usage_details``: a bundled product, plus ``parentProductId``,
  ``parentMetricId`` and ``productConversionRatio`` (``a:b``); its value is the measured
  quantity in its own metric;
- ``cp4d_capability``: a service (capability) of a bundled product, plus
  ``topLevelProductId`` and ``topLevelMetricId`` (its Cloud Pak);
- ``product_license_usage_chargeback`` (SPEC 8) is ``usage_labels`` plus ``groupName``:
  build it with ``usage_family`` and ``with_labels``.

A ``value`` label makes a new series when the value changes: that is IBM's scheme, and
what its dashboards select on; alert on the sample value, which is the same number.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from fractions import Fraction
from typing import Final

from prometheus_client.core import GaugeMetricFamily, Metric

from license_service.formats.decimal_numbers import decimal_text
from license_service.metering.usage_rows import BundledProductUsage, ProductUsage, ServiceUsage

USAGE: Final = "product_license_usage"
DETAILS: Final = "product_license_usage_details"
CAPABILITY: Final = "cp4d_capability"
CHARGEBACK: Final = "product_license_usage_chargeback"
USAGE_LABELS: Final = ("productId", "productName", "metricId", "value", "date")
DETAILS_LABELS: Final = (
    *USAGE_LABELS,
    "parentProductId",
    "parentMetricId",
    "productConversionRatio",
)
CAPABILITY_LABELS: Final = (*USAGE_LABELS, "topLevelProductId", "topLevelMetricId")

Sample = tuple[Mapping[str, str], float]
"""The labels and the value of one sample of a family."""


def usage_labels(
    *, product_id: str, product_name: str, metric: str, value: Fraction | int, day: date
) -> dict[str, str]:
    """The labels of ``product_license_usage``, which every IBM family starts from."""
    return {
        "productId": product_id,
        "productName": product_name,
        "metricId": metric,
        "value": decimal_text(Fraction(value)),
        "date": day.isoformat(),
    }


def with_labels(labels: Mapping[str, str], **more: str) -> dict[str, str]:
    """``labels`` plus ``more`` (``groupName=...`` for the chargeback family)."""
    return {**labels, **more}


def usage_family(name: str, documentation: str, samples: Iterable[Sample]) -> Metric:
    """A gauge family ``name`` of ``samples``."""
    family = GaugeMetricFamily(name, documentation)
    for labels, value in samples:
        family.add_sample(name, dict(labels), value)
    return family


def product_samples(products: Iterable[ProductUsage], day: date) -> Iterator[Sample]:
    """``product_license_usage`` samples of stand-alone products and Cloud Paks."""
    for row in products:
        labels = usage_labels(
            product_id=row.id, product_name=row.name, metric=row.metric, value=row.quantity, day=day
        )
        yield labels, row.quantity


def bundled_usage_samples(rows: Iterable[BundledProductUsage], day: date) -> Iterator[Sample]:
    """``product_license_usage`` samples of bundled products, with their parent's labels."""
    for row in rows:
        labels = with_labels(
            _bundled_labels(row, day),
            parentProductId=row.cloudpak_id,
            parentMetricId=row.cloudpak_metric,
        )
        yield labels, row.measured_quantity


def details_samples(rows: Iterable[BundledProductUsage], day: date) -> Iterator[Sample]:
    """``product_license_usage_details`` samples: bundled products with parent and ratio."""
    for row in rows:
        labels = with_labels(
            _bundled_labels(row, day),
            parentProductId=row.cloudpak_id,
            parentMetricId=row.cloudpak_metric,
            productConversionRatio=str(row.conversion),
        )
        yield labels, row.measured_quantity


def capability_samples(rows: Iterable[ServiceUsage], day: date) -> Iterator[Sample]:
    """``cp4d_capability`` samples: the services of bundled products, with their Cloud Pak."""
    for row in rows:
        labels = with_labels(
            usage_labels(
                product_id=row.service_id,
                product_name=row.service_name,
                metric=row.metric,
                value=row.value,
                day=day,
            ),
            topLevelProductId=row.cloudpak_id,
            topLevelMetricId=row.cloudpak_metric,
        )
        yield labels, row.value


def _bundled_labels(row: BundledProductUsage, day: date) -> dict[str, str]:
    return usage_labels(
        product_id=row.product_id,
        product_name=row.product_name,
        metric=row.metric,
        value=row.measured_quantity,
        day=day,
    )
