"""The figures ``/metrics`` computes at scrape time: usage gauges and sampler counters (SPEC 3.9).

``UsageCollector`` reads, at each scrape, the sampler's latest measurement and today's
daily peaks from the store. Gauges, each with labels ``productId``, ``productName``
and ``metricId``, plus ``parentProductId`` and ``parentMetricId`` for bundled
products (whose value is their measured quantity, in their own metric):

- ``product_license_usage``: usage in the latest sample ("now");
- ``ibm_licensing_usage_daily_high_watermark``: today's (UTC) daily peak so far;
- ``product_license_usage_chargeback`` (SPEC 8, chargeback on): each group's usage in
  the latest sample, the labels of ``product_license_usage`` plus ``groupName``.

Counters from the sampler's status: ``license_service_samples_taken_total``,
``license_service_samples_missed_total``, ``license_service_sampling_failures_total``,
and the gauge ``license_service_last_sample_timestamp_seconds``. ``collect`` reads the
database: the metrics app runs it in a worker thread. If the store cannot be read,
the watermark is left out of that scrape (and logged) rather than failing the scrape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from typing import Final

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from license_service.errors import StorageError
from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.metering.usage_rows import (
    BUNDLED_PRODUCT_ROWS,
    PRODUCT_ROWS,
    BundledProductUsage,
    ProductUsage,
)
from license_service.sampling.status import SamplerStatus
from license_service.store.database import Database
from license_service.store.period_peaks import period_peaks

logger = logging.getLogger(__name__)

USAGE_NOW: Final = "product_license_usage"
USAGE_NOW_BY_GROUP: Final = "product_license_usage_chargeback"
DAILY_HIGH_WATERMARK: Final = "ibm_licensing_usage_daily_high_watermark"


class UsageCollector:
    """A Prometheus collector of the usage gauges and sampler counters, read at scrape time."""

    def __init__(
        self,
        *,
        database: Database,
        cluster_id: ClusterId,
        sampler_status: Callable[[], SamplerStatus],
        today: Callable[[], date],
    ) -> None:
        self._database = database
        self._cluster_id = cluster_id
        self._sampler_status = sampler_status
        self._today = today

    def collect(self) -> Iterator[Metric]:
        """Every figure, computed now; blocking (reads the database)."""
        status = self._sampler_status()
        measurement = status.last_measurement
        yield _usage_family(
            USAGE_NOW,
            "License usage of each product in the latest sample",
            measurement.products if measurement else (),
            measurement.bundled_products if measurement else (),
        )
        if status.last_groups:
            family = GaugeMetricFamily(
                USAGE_NOW_BY_GROUP,
                "License usage of each product in each chargeback group in the latest sample",
            )
            for group, usage in status.last_groups.items():
                _add_usage(
                    family,
                    usage.products,
                    usage.bundled_products,
                    extra_labels={"groupName": group},
                )
            yield family
        watermark = self._watermark()
        if watermark is not None:
            yield watermark
        yield from _sampler_families(status)

    def _watermark(self) -> Metric | None:
        today = DatePeriod(self._today(), self._today())
        try:
            with self._database.read() as connection:
                products = period_peaks(
                    connection, PRODUCT_ROWS, cluster_id=self._cluster_id, period=today
                )
                bundled = period_peaks(
                    connection, BUNDLED_PRODUCT_ROWS, cluster_id=self._cluster_id, period=today
                )
        except StorageError as exc:
            logger.warning("Leaving %s out of this scrape: %s", DAILY_HIGH_WATERMARK, exc)
            return None
        return _usage_family(
            DAILY_HIGH_WATERMARK,
            "Highest license usage of each product today (UTC day)",
            [peak.row for peak in products],
            [peak.row for peak in bundled],
        )


def _usage_family(
    name: str,
    documentation: str,
    products: Iterable[ProductUsage],
    bundled: Iterable[BundledProductUsage],
) -> Metric:
    family = GaugeMetricFamily(name, documentation)
    _add_usage(family, products, bundled)
    return family


def _add_usage(
    family: GaugeMetricFamily,
    products: Iterable[ProductUsage],
    bundled: Iterable[BundledProductUsage],
    *,
    extra_labels: Mapping[str, str] | None = None,
) -> None:
    """Add a sample per product and bundled product, labelled by ``product_labels`` and
    ``bundled_labels`` (the one place usage labels are built), plus ``extra_labels``."""
    extra = extra_labels or {}
    for product in products:
        family.add_sample(family.name, {**product_labels(product), **extra}, product.quantity)
    for row in bundled:
        family.add_sample(family.name, {**bundled_labels(row), **extra}, row.measured_quantity)


def product_labels(product: ProductUsage) -> dict[str, str]:
    """The labels of a product's usage gauges (SPEC 3.9)."""
    return {"productId": product.id, "productName": product.name, "metricId": product.metric}


def bundled_labels(row: BundledProductUsage) -> dict[str, str]:
    """The labels of a bundled product's usage gauges: its own, and its Cloud Pak's."""
    return {
        "productId": row.product_id,
        "productName": row.product_name,
        "metricId": row.metric,
        "parentProductId": row.cloudpak_id,
        "parentMetricId": row.cloudpak_metric,
    }


def _sampler_families(status: SamplerStatus) -> Iterator[Metric]:
    yield CounterMetricFamily(
        "license_service_samples_taken",
        "Samples stored since the service started",
        value=status.samples_taken,
    )
    yield CounterMetricFamily(
        "license_service_samples_missed",
        "Sampling instants without a stored sample (source unusable, store failing, or "
        "skipped by a clock jump), counted as the gaps on /status are",
        value=status.samples_missed,
    )
    yield CounterMetricFamily(
        "license_service_sampling_failures",
        "Sampling instants that failed with an error",
        value=status.ticks_failed,
    )
    if status.last_sample_at is not None:
        yield GaugeMetricFamily(
            "license_service_last_sample_timestamp_seconds",
            "When the latest sample was taken (Unix time)",
            value=status.last_sample_at.timestamp(),
        )
