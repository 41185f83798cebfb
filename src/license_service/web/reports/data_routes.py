"""``/products``, ``/bundled_products`` and ``/services`` (SPEC 3.2, 3.3, 3.6): thin handlers.

Each handler reads the query (``period_parameters``) and takes the body from
``cached_reports`` (kept bodies on the event loop; otherwise built in a worker thread:
the database is never read on the event loop), then answers JSON, or CSV with
``format=csv`` (``text/csv``, offered as a download named after the report and
period). ``groupName=`` (SPEC 8) answers one chargeback group's rows
(``group_reports``). The three endpoints of an app share one cache. Authentication is
added by the app, around every data route.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from license_service.web.app_state import AppState
from license_service.web.authentication import Endpoint
from license_service.web.reports.cached_reports import CachedReports
from license_service.web.reports.group_reports import group_from, group_report_body
from license_service.web.reports.period_parameters import report_query
from license_service.web.reports.report_bodies import REPORTS, Report
from license_service.web.reports.report_responses import report_response


def report_endpoints(state: AppState) -> dict[str, Endpoint]:
    """The handler of each report endpoint, by path, sharing one cache of bodies."""
    reports = CachedReports.of_app(state)
    return {report.path: report_endpoint(state, report, reports) for report in REPORTS}


def report_endpoint(state: AppState, report: Report[Any], reports: CachedReports) -> Endpoint:
    """The handler of ``report``'s endpoint, its bodies taken from ``reports``."""

    async def answer(request: Request) -> Response:
        today = state.today()
        query = report_query(request.query_params, today=today)
        group = group_from(
            request.query_params, chargeback_enabled=state.licensing().chargeback_enabled
        )
        if group is None:
            body = await reports.body(report, query, today=today)
        else:
            body = await group_report_body(state, report, query, group)
        return report_response(
            body, format=query.format, csv_file_name=f"{report.name}_{query.period}.csv"
        )

    return answer
