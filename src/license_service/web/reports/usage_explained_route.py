"""``GET /usage_explained`` (SPEC 9): the breakdown behind a day's peak of a product.

A thin handler: it reads the query (``explained_query``, ``groupName`` included), builds
the body in a worker thread (``explained_bodies``: the database is never read on the
event loop, at most ``MAX_READERS`` at a time) and answers JSON, or the contributions as
CSV with ``format=csv``. Bodies are kept like report bodies (``report_cache.BodyCache``:
until the next write to the store, bounded in entries and bytes; keyed by group too), so
the people following the status page's links to one peak are answered on the event
loop. Refusals are not kept. Authentication is added by the app.
"""

from __future__ import annotations

from datetime import date
from typing import Final

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response

from license_service.metering.periods import DatePeriod
from license_service.web.app_state import AppState
from license_service.web.authentication import Endpoint
from license_service.web.reports.explained_bodies import explained_body
from license_service.web.reports.explained_query import ExplainedQuery, explained_query
from license_service.web.reports.report_cache import BodyCache, BodyKey
from license_service.web.reports.report_responses import report_response

PATH: Final = "/usage_explained"
MAX_READERS: Final = 4
MAX_KEPT_BYTES: Final = 16 * 1024 * 1024


def usage_explained_endpoint(state: AppState) -> Endpoint:
    """The handler of ``/usage_explained``."""
    limiter: list[anyio.CapacityLimiter] = []  # made on the first request, in its loop
    database = state.database
    bodies = BodyCache(lambda: database.data_version, max_bytes=MAX_KEPT_BYTES)

    async def answer(request: Request) -> Response:
        today = state.today()
        query = explained_query(
            request.query_params,
            today=today,
            chargeback_enabled=state.licensing().chargeback_enabled,
        )
        key = _key(state, query, today=today)
        body = bodies.get(key)
        if body is None:
            if not limiter:
                limiter.append(anyio.CapacityLimiter(MAX_READERS))
            version = database.data_version  # before the read: a write meanwhile drops it

            def read() -> bytes:
                return explained_body(
                    database, cluster_id=state.cluster_id, query=query, today=today
                )

            body = await anyio.to_thread.run_sync(read, limiter=limiter[0])
            bodies.put(key, body, version=version)
        day = query.day.isoformat() if query.day else "peak"
        return report_response(
            body, format=query.format, csv_file_name=f"usage_explained_{day}.csv"
        )

    return answer


def _key(state: AppState, query: ExplainedQuery, *, today: date) -> BodyKey:
    """Everything the body depends on besides the data: the default period resolves today."""
    period = DatePeriod.ending(today) if query.day is None else DatePeriod(query.day, query.day)
    # The group is part of the key: a group's breakdown is never answered for another's.
    asked = "\x1f".join((PATH, query.product_id, query.cloudpak_id or "", query.group or ""))
    return BodyKey(
        report=asked,
        cluster_id=state.cluster_id,
        period=period,
        metric=query.metric,
        format=query.format,
    )
