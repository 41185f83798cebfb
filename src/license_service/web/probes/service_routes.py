"""``/health``, ``/version``, ``/livez`` and ``/readyz``: what the service says about itself.

Thin handlers: ``/health`` (authenticated by the app) assembles ``health.health_document``
from the app state; ``/version`` answers the build's ``VersionInfo``; ``/livez`` answers
``{"status": "ok"}`` while the event loop runs; ``/readyz`` answers the same when
``readiness.Readiness`` says ready, else 503 with the JSON error body saying why.
"""

from __future__ import annotations

from datetime import date

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from license_service.errors import StorageError
from license_service.store.first_day import first_day_with_data
from license_service.web.app_state import AppState
from license_service.web.authentication import Endpoint
from license_service.web.error_responses import error_response
from license_service.web.probes.health import HealthDocument, health_document
from license_service.web.probes.namespace_scope_section import (
    namespace_scope_section,
    namespace_scope_warnings,
)
from license_service.web.probes.readiness import Readiness, database_problem
from license_service.web.probes.sender_section import sender_section, sender_warnings
from license_service.web.uploads.unmeasured import without_uploaded


def current_health(state: AppState) -> HealthDocument:
    """The ``/health`` document now; blocking (asks the database whether it answers)."""
    token_problem = state.authenticator.problem()
    unreachable = database_problem(state.database)
    sampler = state.sampler_status()
    source = state.source_state()
    licensing = state.licensing()
    sender = state.sender_status() if state.sender_status is not None else None
    return health_document(
        now=state.now(),
        sampler=without_uploaded(state, sampler),
        source=source,
        token_problem=token_problem,
        database_problem=unreachable,
        warnings=[
            *state.health_warnings(),
            *namespace_scope_warnings(licensing, source),
            *(sender_warnings(sender) if sender is not None else ()),
        ],
        first_day=_first_day(state) if unreachable is None else None,
        leader=state.leader_status() if state.leader_status is not None else None,
        namespace_scope=namespace_scope_section(licensing, sampler),
        sender=sender_section(sender) if sender is not None else None,
    )


def _first_day(state: AppState) -> date | None:
    # The database answered a moment ago; if it stops now, /health still answers.
    try:
        with state.database.read() as connection:
            return first_day_with_data(connection, cluster_id=state.cluster_id)
    except StorageError:
        return None


def health_endpoint(state: AppState) -> Endpoint:
    """The handler of ``/health``."""

    async def answer(request: Request) -> Response:
        del request
        return JSONResponse(await run_in_threadpool(current_health, state))

    return answer


def version_endpoint(state: AppState) -> Endpoint:
    """The handler of ``/version``."""

    async def answer(request: Request) -> Response:
        del request
        return JSONResponse(state.version.document())

    return answer


async def livez(request: Request) -> Response:
    """The handler of ``/livez``: the process answers."""
    del request
    return JSONResponse({"status": "ok"})


def readyz_endpoint(readiness: Readiness) -> Endpoint:
    """The handler of ``/readyz``."""

    async def answer(request: Request) -> Response:
        del request
        problem = await run_in_threadpool(readiness.problem)
        if problem is not None:
            return error_response(503, f"not ready: {problem}")
        return JSONResponse({"status": "ok"})

    return answer
