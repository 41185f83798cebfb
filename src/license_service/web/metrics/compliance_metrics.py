"""The figures the shipped alert rules read (SPEC 13), computed at scrape time.

- ``license_service_entitlement_quantity`` (``productId``, ``metricId``): the quantity
  entitled today (UTC), overlapping entitlements added up; a product without an
  entitlement in force has no sample, which the "unentitled usage" rule relies on;
- ``license_service_entitlements_valid``: 1 when the latest entitlements document is in
  force, 0 when it was refused (the previous ones stay in force);
- ``license_service_uncounted_pods``: pods left out of the latest sample because their
  annotations break a rule (``/health``'s ``incompleteAnnotations``); on a follower the
  leader's count (``replica_figures``);
- ``license_service_api_token_usable``: 1 when the configured API token can be used,
  0 when it is refused (``/health`` says why);
- ``license_service_start_time_seconds``: when the metrics app was made (the service's
  start), so that "no sample since the start, 15 minutes ago" can be told.

Nothing here reads the database; every value is what the service holds already.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from prometheus_client.core import GaugeMetricFamily, Metric

from license_service.formats.decimal_numbers import json_number
from license_service.web.app_state import AppState
from license_service.web.metrics.replica_figures import uncounted_pods

ENTITLEMENT_QUANTITY: Final = "license_service_entitlement_quantity"
UNCOUNTED_PODS: Final = "license_service_uncounted_pods"
TOKEN_USABLE: Final = "license_service_api_token_usable"  # noqa: S105 (a metric name)
STARTED: Final = "license_service_start_time_seconds"
ENTITLEMENTS_VALID: Final = "license_service_entitlements_valid"


class ComplianceCollector:
    """A Prometheus collector of the entitlements and of the service's alertable states."""

    def __init__(self, state: AppState) -> None:
        """``state``'s functions are read at every scrape."""
        self._state = state
        self._started = state.now().timestamp()

    def describe(self) -> list[Metric]:
        """No families up front: the registry learns them from the first ``collect``."""
        return []

    def collect(self) -> Iterator[Metric]:
        """Every figure, as the service holds it now."""
        state = self._state
        entitled = GaugeMetricFamily(
            ENTITLEMENT_QUANTITY,
            "License quantity entitled today (UTC), overlapping entitlements added up",
            labels=["productId", "metricId"],
        )
        for (product_id, metric), quantity in sorted(
            state.entitlements().in_force(state.today()).items()
        ):
            entitled.add_metric([product_id, metric], json_number(quantity))
        yield entitled
        yield GaugeMetricFamily(
            ENTITLEMENTS_VALID,
            "1 when the latest entitlements document is in force, 0 when it was refused",
            value=0 if state.entitlements_problem() else 1,
        )
        uncounted = uncounted_pods(state)
        if uncounted is not None:
            yield GaugeMetricFamily(
                UNCOUNTED_PODS,
                "Pods left out of the latest sample: their licensing annotations break a rule",
                value=uncounted,
            )
        yield GaugeMetricFamily(
            STARTED,
            "When the service started (Unix time)",
            value=self._started,
        )
        yield GaugeMetricFamily(
            TOKEN_USABLE,
            "1 when the configured API token can be used, 0 when it is refused",
            value=0 if state.authenticator.problem() else 1,
        )
