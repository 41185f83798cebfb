"""``/products``, ``/bundled_products`` and ``/services`` (SPEC 3.2, 3.3, 3.6): thin handlers.

Each handler reads the query (``period_parameters``), builds the body in a worker
thread (``reports``: the database is never read on the event loop) and answers JSON,
or CSV with ``format=csv`` (``text/csv``, offered as a download named after the
report and period). Authentication is added by the app, around every data route.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from license_service.web.app_state import AppState
from license_service.web.authentication import Endpoint
from license_service.web.period_parameters import report_query
from license_service.web.reports import Report, report_body

JSON_MEDIA_TYPE = "application/json"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def report_endpoint(state: AppState, report: Report[Any]) -> Endpoint:
    """The handler of ``report``'s endpoint."""

    async def answer(request: Request) -> Response:
        query = report_query(request.query_params, today=state.today())
        body = await run_in_threadpool(
            report_body,
            state.database,
            report,
            cluster_id=state.cluster_id,
            period=query.period,
            metric=query.metric,
            format=query.format,
        )
        if query.format == "csv":
            file_name = f"{report.name}_{query.period}.csv"
            return Response(
                body,
                media_type=CSV_MEDIA_TYPE,
                headers={"Content-Disposition": f'attachment; filename="{file_name}"'},
            )
        return Response(body, media_type=JSON_MEDIA_TYPE)

    return answer
