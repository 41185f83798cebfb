"""The sender's metrics (SPEC 11), read from its status at scrape time.

- ``license_service_reporter_last_push_timestamp_seconds``: when a push last succeeded;
- ``license_service_reporter_acknowledged_day``: the last day the Reporter acknowledged,
  as the Unix time of its start (00:00 UTC);
- ``license_service_reporter_push_failures_total``: failed pushes since the start.

Nothing is exposed while no Reporter is configured; a timestamp not known yet is left out.
``reporter_figures`` is what the families show, as numbers: the leader shares them with
the other replicas (``web.probes.leader_view``), so a follower, which does not push,
exposes the leader's figures (SPEC 12) and every replica answers alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time
from typing import TypedDict

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from license_service.reporting.sender import SenderStatus


class ReporterFigures(TypedDict):
    """The sender's figures as the families show them (Unix times, a count)."""

    lastPushSeconds: float | None
    acknowledgedDaySeconds: float | None
    pushFailures: int


def reporter_figures(status: SenderStatus) -> ReporterFigures | None:
    """The figures of ``status``; ``None`` when no Reporter is configured."""
    if status.reporter_url is None:
        return None
    through = status.acknowledged_through
    return {
        "lastPushSeconds": status.last_push_at.timestamp() if status.last_push_at else None,
        "acknowledgedDaySeconds": (
            datetime.combine(through, time(), tzinfo=UTC).timestamp() if through else None
        ),
        "pushFailures": status.push_failures,
    }


class ReporterCollector:
    """Collects the sender's figures from ``figures`` at each scrape (``None``: none to show)."""

    def __init__(self, figures: Callable[[], ReporterFigures | None]) -> None:
        self._figures = figures

    def describe(self) -> list[Metric]:
        """No fixed description: the families appear only with a Reporter configured."""
        return []

    def collect(self) -> Iterator[Metric]:
        """The three families, when a Reporter is configured."""
        figures = self._figures()
        if figures is None:
            return
        last_push = GaugeMetricFamily(
            "license_service_reporter_last_push_timestamp_seconds",
            "When a push to the Reporter last succeeded (Unix time).",
        )
        if figures["lastPushSeconds"] is not None:
            last_push.add_metric([], figures["lastPushSeconds"])
        yield last_push
        acknowledged = GaugeMetricFamily(
            "license_service_reporter_acknowledged_day",
            "The last day the Reporter acknowledged, as the Unix time of its start (UTC).",
        )
        if figures["acknowledgedDaySeconds"] is not None:
            acknowledged.add_metric([], figures["acknowledgedDaySeconds"])
        yield acknowledged
        failures = CounterMetricFamily(
            "license_service_reporter_push_failures",
            "Pushes to the Reporter that failed since the service started.",
        )
        failures.add_metric([], figures["pushFailures"])
        yield failures
