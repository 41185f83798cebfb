"""The sender's metrics (SPEC 11), read from its status at scrape time.

- ``license_service_reporter_last_push_timestamp_seconds``: when a push last succeeded;
- ``license_service_reporter_acknowledged_day``: the last day the Reporter acknowledged,
  as the Unix time of its start (00:00 UTC);
- ``license_service_reporter_push_failures_total``: failed pushes since the start.

Nothing is exposed while no Reporter is configured; a timestamp not known yet is left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from license_service.reporting.sender import SenderStatus


class ReporterCollector:
    """Collects the sender's figures from ``status`` at each scrape."""

    def __init__(self, status: Callable[[], SenderStatus]) -> None:
        self._status = status

    def describe(self) -> list[Metric]:
        """No fixed description: the families appear only with a Reporter configured."""
        return []

    def collect(self) -> Iterator[Metric]:
        """The three families, when a Reporter is configured."""
        status = self._status()
        if status.reporter_url is None:
            return
        last_push = GaugeMetricFamily(
            "license_service_reporter_last_push_timestamp_seconds",
            "When a push to the Reporter last succeeded (Unix time).",
        )
        if status.last_push_at is not None:
            last_push.add_metric([], status.last_push_at.timestamp())
        yield last_push
        acknowledged = GaugeMetricFamily(
            "license_service_reporter_acknowledged_day",
            "The last day the Reporter acknowledged, as the Unix time of its start (UTC).",
        )
        if status.acknowledged_through is not None:
            start = datetime.combine(status.acknowledged_through, time(), tzinfo=UTC)
            acknowledged.add_metric([], start.timestamp())
        yield acknowledged
        failures = CounterMetricFamily(
            "license_service_reporter_push_failures",
            "Pushes to the Reporter that failed since the service started.",
        )
        failures.add_metric([], status.push_failures)
        yield failures
