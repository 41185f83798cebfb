"""``/health``, ``/version``, ``/livez`` and ``/readyz``: what the service says about itself.

Thin handlers: ``/health`` (authenticated by the app) assembles ``health.health_document``
from the app state; ``/version`` answers the build's ``VersionInfo``; ``/livez`` answers
``{"status": "ok"}`` while the event loop runs; ``/readyz`` answers the same when
``readiness.Readiness`` says ready, else 503 with the JSON error body saying why.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import cast

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from license_service.errors import StorageError
from license_service.leadership.elector import LeaderStatus
from license_service.store.first_day import first_day_with_data
from license_service.web.app_state import AppState
from license_service.web.authentication import Endpoint
from license_service.web.error_responses import error_response
from license_service.web.probes.health import HealthDocument, health_document
from license_service.web.probes.leader_view import FollowedView, LeaderViewDocument
from license_service.web.probes.namespace_scope_section import (
    namespace_scope_section,
    namespace_scope_warnings,
)
from license_service.web.probes.readiness import Readiness, database_problem
from license_service.web.probes.sender_section import (
    SenderSection,
    sender_section,
    sender_warnings,
)
from license_service.web.uploads.unmeasured import without_uploaded, without_uploaded_rows


def current_health(state: AppState) -> HealthDocument:
    """The ``/health`` document now; blocking (asks the database whether it answers)."""
    token_problem = state.authenticator.problem()
    unreachable = database_problem(state.database)
    sampler = state.sampler_status()
    source = state.source_state()
    licensing = state.licensing()
    leader = state.leader_status() if state.leader_status is not None else None
    followed = _followed_view(state, leader)
    section, notes = _sender(state, followed)
    return health_document(
        now=state.now(),
        sampler=without_uploaded(state, sampler),
        source=source,
        token_problem=token_problem,
        database_problem=unreachable,
        warnings=[
            *state.health_warnings(),
            *namespace_scope_warnings(licensing, source),
            *notes,
        ],
        first_day=_first_day(state) if unreachable is None else None,
        leader=leader,
        namespace_scope=namespace_scope_section(licensing, sampler),
        sender=section,
        followed=followed,
    )


def _followed_view(state: AppState, leader: LeaderStatus | None) -> FollowedView | None:
    """On a follower, the leader's view (products with uploaded values left out, as the
    leader leaves them out); ``None`` on the leader or a single replica."""
    if leader is None or leader.leading or state.leader_view is None:
        return None
    followed = state.leader_view()
    if followed.view is None:
        return followed
    document = followed.view.document
    sections = document["sections"]
    kept = without_uploaded_rows(state, sections["unmeasuredMetrics"])
    if len(kept) == len(sections["unmeasuredMetrics"]):
        return followed
    changed = {**document, "sections": {**sections, "unmeasuredMetrics": kept}}
    view = dataclasses.replace(followed.view, document=cast(LeaderViewDocument, changed))
    return FollowedView(view)


def _sender(
    state: AppState, followed: FollowedView | None
) -> tuple[SenderSection | None, list[str]]:
    """The sender section and its warnings: the leader's on a follower, else this replica's."""
    if followed is not None:
        if followed.view is None:
            return None, []
        return followed.view.document["sender"], followed.view.document["senderWarnings"]
    sender = state.sender_status() if state.sender_status is not None else None
    if sender is None:
        return None, []
    return sender_section(sender), sender_warnings(sender)


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
