"""The Reporter's app (SPEC 11): its routes, gate, error answers and middleware.

The page ``/``, data routes and ``POST /v1/push`` go through License Service's gate
with the Reporter token (``authentication.requiring_authentication``); ``/version``,
``/livez`` and ``/readyz`` need nothing. Other methods answer 405, unknown paths 404, both as the
JSON error body, and nothing redirects, as in ``web.application``.
"""

from __future__ import annotations

from typing import Final

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from license_service.errors import StorageError
from license_service.fleet.fleet_store import known_cluster_ids
from license_service.web.authentication import Endpoint, requiring_authentication
from license_service.web.error_responses import error_response, exception_handlers, first_line_of
from license_service.web.middleware.access_log import AccessLogMiddleware
from license_service.web.middleware.request_limits import RequestLimitMiddleware
from license_service.web.middleware.request_metrics import RequestMetricsMiddleware
from license_service.web.middleware.security_headers import SecurityHeadersMiddleware
from license_service.web.probes.service_routes import livez
from license_service.web.reporter.fleet_compliance import COMPLIANCE_PATH, compliance_endpoint
from license_service.web.reporter.fleet_page_route import (
    PAGE_PATH,
    REPORTER_PAGES,
    fleet_refusal_page,
    page_endpoint,
)
from license_service.web.reporter.fleet_reports import fleet_report_endpoints
from license_service.web.reporter.fleet_snapshot_route import (
    SNAPSHOT_PATH,
    fleet_snapshot_endpoint,
)
from license_service.web.reporter.push_route import PUSH_PATH, push_endpoint
from license_service.web.reporter.reporter_openapi import reporter_openapi_document
from license_service.web.reporter.reporter_state import ReporterState
from license_service.web.reporter.reporter_status import status_endpoint
from license_service.web.reporter.snapshot_import_route import (
    SNAPSHOT_IMPORT_PATH,
    snapshot_import_endpoint,
)

READ_PATHS: Final = (
    PAGE_PATH,
    "/products",
    "/bundled_products",
    "/services",
    "/clusters",
    "/contributions",
    COMPLIANCE_PATH,
    SNAPSHOT_PATH,
    "/status",
)
WRITE_PATHS: Final = (PUSH_PATH, SNAPSHOT_IMPORT_PATH)
PUBLIC_PATHS: Final = ("/version", "/livez", "/readyz", "/openapi.json")


def create_reporter_app(state: ReporterState) -> Starlette:
    """The Reporter's app of ``state``."""
    protected: dict[str, Endpoint] = {
        **fleet_report_endpoints(state),
        COMPLIANCE_PATH: compliance_endpoint(state),
        SNAPSHOT_PATH: fleet_snapshot_endpoint(state),
        "/status": status_endpoint(state),
        PAGE_PATH: page_endpoint(state),
    }
    writes: dict[str, Endpoint] = {
        PUSH_PATH: push_endpoint(state),
        SNAPSHOT_IMPORT_PATH: snapshot_import_endpoint(state),
    }
    public: dict[str, Endpoint] = {
        "/version": _version_endpoint(state),
        "/livez": livez,
        "/readyz": _readyz_endpoint(state),
        "/openapi.json": _openapi_endpoint(state),
    }
    routes = [
        *(Route(path, _gated(state, protected.pop(path)), methods=["GET"]) for path in READ_PATHS),
        *(Route(path, _gated(state, writes.pop(path)), methods=["POST"]) for path in WRITE_PATHS),
        *(Route(path, public.pop(path), methods=["GET"]) for path in PUBLIC_PATHS),
    ]
    if protected or writes or public:
        raise RuntimeError(f"endpoints without a path list: {sorted({*protected, *public})}")
    paths = [*READ_PATHS, *WRITE_PATHS, *PUBLIC_PATHS]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(AccessLogMiddleware),
            Middleware(RequestMetricsMiddleware, metrics=state.request_metrics, paths=paths),
            Middleware(SecurityHeadersMiddleware),
            Middleware(RequestLimitMiddleware),
        ],
        exception_handlers=exception_handlers(),
    )
    app.router.redirect_slashes = False
    return app


def _gated(state: ReporterState, endpoint: Endpoint) -> Endpoint:
    # A browser refused at a page gets the Reporter's refusal page (License Service's
    # speaks of its own API token and start page).
    return requiring_authentication(
        state, endpoint, html_pages=REPORTER_PAGES, html_refusal=fleet_refusal_page
    )


def _version_endpoint(state: ReporterState) -> Endpoint:
    async def answer(request: Request) -> Response:
        del request
        return JSONResponse(state.version.document())

    return answer


def _openapi_endpoint(state: ReporterState) -> Endpoint:
    document = reporter_openapi_document(state.version.version)

    async def answer(request: Request) -> Response:
        del request
        return JSONResponse(document)

    return answer


def _readyz_endpoint(state: ReporterState) -> Endpoint:
    async def answer(request: Request) -> Response:
        del request
        problem = await anyio.to_thread.run_sync(_database_problem, state)
        if problem is not None:
            return error_response(503, f"not ready: {problem}")
        return JSONResponse({"status": "ok"})

    return answer


def _database_problem(state: ReporterState) -> str | None:
    """Why the Reporter's database cannot be read now, or ``None``; blocking."""
    try:
        with state.database.read() as connection:
            list(known_cluster_ids(connection))
    except StorageError as exc:
        return f"the database does not answer: {first_line_of(exc)}"
    return None
