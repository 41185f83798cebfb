"""The API app (SPEC 3): every route, its authentication, error answers and observers.

``create_app`` builds a Starlette app from an ``AppState``; nothing is global, so
tests build as many apps as they like. Routes answer GET (and HEAD); any other method
on a known path is 405 with ``Allow``, an unknown path 404, both as the JSON error
body; nothing redirects (not even ``/products/``: a redirect built from the ``Host``
header would carry the token to another domain). Data routes
(``PROTECTED_PATHS``) go through ``requiring_authentication``; ``POST
/v2/metric_upload`` (``UPLOAD_PATHS``) checks the upload token itself;
``/``, ``/version``, ``/livez``, ``/readyz`` and ``/openapi.json`` need nothing.
Every request is access-logged (``token=***``) and counted in ``state.request_metrics``;
an oversized path, query string or set of headers is refused before routing
(``request_limits``), and every answer carries ``no-store``, ``no-referrer``,
``nosniff`` and a CSP (``security_headers``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from license_service.web.app_state import AppState
from license_service.web.authentication import Endpoint, requiring_authentication
from license_service.web.error_responses import exception_handlers
from license_service.web.metrics.metrics_app import create_metrics_app
from license_service.web.middleware.access_log import AccessLogMiddleware
from license_service.web.middleware.request_limits import RequestLimitMiddleware
from license_service.web.middleware.request_metrics import RequestMetricsMiddleware
from license_service.web.middleware.security_headers import SecurityHeadersMiddleware
from license_service.web.openapi import openapi_document
from license_service.web.pages.page_routes import index_endpoint, page_environment, status_endpoint
from license_service.web.probes.readiness import Readiness
from license_service.web.probes.service_routes import (
    health_endpoint,
    livez,
    readyz_endpoint,
    version_endpoint,
)
from license_service.web.reports.compliance_route import compliance_endpoint
from license_service.web.reports.data_routes import report_endpoints
from license_service.web.reports.group_reports import chargeback_groups_endpoint
from license_service.web.reports.snapshot_route import snapshot_endpoint
from license_service.web.reports.usage_explained_route import usage_explained_endpoint
from license_service.web.uploads.upload_route import UPLOAD_PATH, upload_endpoint

__all__ = ["PROTECTED_PATHS", "PUBLIC_PATHS", "UPLOAD_PATHS", "create_app", "create_metrics_app"]

PROTECTED_PATHS: Final = (
    "/products",
    "/bundled_products",
    "/services",
    "/health",
    "/status",
    "/snapshot",
    "/compliance",
    "/usage_explained",
    "/chargeback_groups",
)
PUBLIC_PATHS: Final = ("/", "/version", "/livez", "/readyz", "/openapi.json")
UPLOAD_PATHS: Final = (UPLOAD_PATH,)
"""Paths with their own authentication: the upload token alone (SPEC 10)."""


def create_app(state: AppState) -> Starlette:
    """The API app of ``state``."""
    environment = page_environment()
    protected: dict[str, Endpoint] = {
        **report_endpoints(state),
        "/health": health_endpoint(state),
        "/status": status_endpoint(state, environment),
        "/snapshot": snapshot_endpoint(state),
        "/compliance": compliance_endpoint(state),
        "/usage_explained": usage_explained_endpoint(state),
        "/chargeback_groups": chargeback_groups_endpoint(state),
    }
    public: dict[str, Endpoint] = {
        "/": index_endpoint(state, environment),
        "/version": version_endpoint(state),
        "/livez": livez,
        "/readyz": readyz_endpoint(Readiness(state.database, state.source_state)),
        "/openapi.json": _openapi_endpoint(state),
    }
    # The two lists decide which paths go through the gate; a handler missing from
    # them fails here, at startup, rather than being served without authentication.
    routes = [
        *(
            Route(path, requiring_authentication(state, protected.pop(path)), methods=["GET"])
            for path in PROTECTED_PATHS
        ),
        *(Route(path, public.pop(path), methods=["GET"]) for path in PUBLIC_PATHS),
        Route(UPLOAD_PATH, upload_endpoint(state), methods=["POST"]),
    ]
    if protected or public:
        raise RuntimeError(f"endpoints without a path list: {sorted({*protected, *public})}")
    app = Starlette(
        routes=routes,
        middleware=_middleware(state, paths=[*PROTECTED_PATHS, *PUBLIC_PATHS, *UPLOAD_PATHS]),
        exception_handlers=exception_handlers(),
    )
    # Starlette redirects /products/ to /products on the Host header's domain, query
    # (and token) included: no redirect at all, a near miss is a 404 that says why.
    app.router.redirect_slashes = False
    return app


def _middleware(state: AppState, *, paths: Sequence[str]) -> list[Middleware]:
    return [
        Middleware(AccessLogMiddleware),
        Middleware(RequestMetricsMiddleware, metrics=state.request_metrics, paths=paths),
        Middleware(SecurityHeadersMiddleware),
        Middleware(RequestLimitMiddleware),
    ]


def _openapi_endpoint(state: AppState) -> Endpoint:
    document = openapi_document(state.version.version)

    async def answer(request: Request) -> Response:
        del request
        return JSONResponse(document)

    return answer
