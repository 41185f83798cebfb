"""The metrics port's app (SPEC 3.9): ``GET /metrics`` in the Prometheus text format.

``create_metrics_app`` registers, on the registry it is given (never a global one),
the scrape-time ``UsageCollector``, ``ComplianceCollector`` and ``ReporterCollector``
(the last two show the leader's figures on a follower: ``replica_figures``), the API's
``RequestMetrics`` and the app state's ``extra_collectors``, each behind
``PrintableLabels`` (a label value from an annotation can hold any character), and
serves the registry. The exposition is rendered in a worker thread, since collecting
reads the database. No authentication (SPEC 3.9).
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from license_service.web.app_state import AppState
from license_service.web.error_responses import exception_handlers
from license_service.web.metrics.compliance_metrics import ComplianceCollector
from license_service.web.metrics.label_values import PrintableLabels
from license_service.web.metrics.replica_figures import shown_reporter_figures
from license_service.web.metrics.reporter_metrics import ReporterCollector
from license_service.web.metrics.usage_metrics import UsageCollector


def create_metrics_app(state: AppState, registry: CollectorRegistry) -> Starlette:
    """The ``/metrics`` app over ``registry``, with the service's collectors registered."""
    usage = UsageCollector(
        database=state.database,
        cluster_id=state.cluster_id,
        sampler_status=state.sampler_status,
        today=state.today,
    )
    collectors: tuple[Collector, ...] = (
        usage,
        ComplianceCollector(state),
        *state.request_metrics.collectors(),
        ReporterCollector(lambda: shown_reporter_figures(state)),
    )
    for collector in (*collectors, *state.extra_collectors):
        registry.register(PrintableLabels(collector))

    async def metrics(request: Request) -> Response:
        del request
        body = await run_in_threadpool(generate_latest, registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    app = Starlette(
        routes=[Route("/metrics", metrics, methods=["GET"])],
        exception_handlers=exception_handlers(),
    )
    app.router.redirect_slashes = False  # no answer is built from the Host header
    return app
