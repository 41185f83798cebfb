"""``GET /usage_explained`` (SPEC 9): the breakdown behind a day's peak of a product.

A thin handler: it reads the query (``explained_query``), builds the body in a worker
thread (``explained_bodies``: the database is never read on the event loop, at most
``MAX_READERS`` at a time) and answers JSON, or the contributions as CSV with
``format=csv``. Authentication is added by the app.
"""

from __future__ import annotations

from typing import Final

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response

from license_service.web.app_state import AppState
from license_service.web.authentication import Endpoint
from license_service.web.reports.data_routes import CSV_MEDIA_TYPE, JSON_MEDIA_TYPE
from license_service.web.reports.explained_bodies import explained_body
from license_service.web.reports.explained_query import explained_query

PATH: Final = "/usage_explained"
MAX_READERS: Final = 4


def usage_explained_endpoint(state: AppState) -> Endpoint:
    """The handler of ``/usage_explained``."""
    limiter: list[anyio.CapacityLimiter] = []  # made on the first request, in its loop

    async def answer(request: Request) -> Response:
        today = state.today()
        query = explained_query(request.query_params, today=today)
        if not limiter:
            limiter.append(anyio.CapacityLimiter(MAX_READERS))

        def read() -> bytes:
            return explained_body(
                state.database, cluster_id=state.cluster_id, query=query, today=today
            )

        body = await anyio.to_thread.run_sync(read, limiter=limiter[0])
        if query.format == "csv":
            name = f"usage_explained_{query.day.isoformat() if query.day else 'peak'}.csv"
            return Response(
                body,
                media_type=CSV_MEDIA_TYPE,
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        return Response(body, media_type=JSON_MEDIA_TYPE)

    return answer
