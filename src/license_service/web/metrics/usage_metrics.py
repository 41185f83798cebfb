"""The figures ``/metrics`` computes at scrape time: usage gauges and sampler counters (SPEC 3.9).

``UsageCollector`` reads, at each scrape, the sampler's latest measurement and today's
daily peaks from the store. Gauges:

- ``product_license_usage``, ``product_license_usage_details`` and ``cp4d_capability``:
  usage in the latest sample ("now"), with IBM's labels (``ibm_families``: ``value`` and
  ``date``, the day of the latest sample, among them);
- ``product_license_usage_chargeback`` (SPEC 8, chargeback on): each group's usage in
  the latest sample, the labels of ``product_license_usage`` plus ``groupName``;
- ``ibm_licensing_usage_daily_high_watermark``: today's (UTC) daily peak so far, with
  labels ``productId``, ``productName`` and ``metricId``, plus ``parentProductId`` and
  ``parentMetricId`` for bundled products (whose value is their measured quantity, in
  their own metric).

Counters from the sampler's status: ``license_service_samples_taken_total``,
``license_service_samples_missed_total``, ``license_service_sampling_failures_total``,
and the gauge ``license_service_last_sample_timestamp_seconds``. ``collect`` reads the
database: the metrics app runs it in a worker thread. If the store cannot be read,
the watermark is left out of that scrape (and logged) rather than failing the scrape.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date
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
from license_service.web.metrics import ibm_families

logger = logging.getLogger(__name__)

USAGE_NOW: Final = ibm_families.USAGE
USAGE_NOW_BY_GROUP: Final = ibm_families.CHARGEBACK
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
        yield from _usage_now(status)
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


def _usage_now(status: SamplerStatus) -> Iterator[Metric]:
    measurement, taken_at = status.last_measurement, status.last_sample_at
    # Without a sample every family is empty: the day is then never written.
    day = taken_at.astimezone(UTC).date() if taken_at is not None else date.min
    products = measurement.products if measurement else ()
    bundled = measurement.bundled_products if measurement else ()
    services = measurement.services if measurement else ()
    yield ibm_families.usage_family(
        USAGE_NOW,
        "License usage of each product in the latest sample",
        itertools.chain(
            ibm_families.product_samples(products, day),
            ibm_families.bundled_usage_samples(bundled, day),
        ),
    )
    yield ibm_families.usage_family(
        ibm_families.DETAILS,
        "License usage of each product counted towards a Cloud Pak, in the latest sample",
        ibm_families.details_samples(bundled, day),
    )
    yield ibm_families.usage_family(
        ibm_families.CAPABILITY,
        "Usage of each service (capability) of a bundled product, in the latest sample",
        ibm_families.capability_samples(services, day),
    )
    if status.last_groups:
        yield ibm_families.usage_family(
            USAGE_NOW_BY_GROUP,
            "License usage of each product in each chargeback group in the latest sample",
            (
                (ibm_families.with_labels(labels, groupName=group), value)
                for group, usage in status.last_groups.items()
                for labels, value in itertools.chain(
                    ibm_families.product_samples(usage.products, day),
                    ibm_families.bundled_usage_samples(usage.bundled_products, day),
                )
            ),
        )


def _usage_family(
    name: str,
    documentation: str,
    products: Iterable[ProductUsage],
    bundled: Iterable[BundledProductUsage],
) -> Metric:
    family = GaugeMetricFamily(name, documentation)
    for product in products:
        labels = {"productId": product.id, "productName": product.name, "metricId": product.metric}
        family.add_sample(name, labels, product.quantity)
    for row in bundled:
        labels = {
            "productId": row.product_id,
            "productName": row.product_name,
            "metricId": row.metric,
            "parentProductId": row.cloudpak_id,
            "parentMetricId": row.cloudpak_metric,
        }
        family.add_sample(name, labels, row.measured_quantity)
    return family


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
