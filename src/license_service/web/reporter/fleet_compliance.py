"""The Reporter's ``GET /compliance`` (SPEC 13, fleet-wide): the fleet's period peaks of
products beside what was bought.

The same rows, rules, JSON and CSV as License Service's ``/compliance``
(``metering.compliance.compliance_rows``, ``compliance_route.encoded``), over the peaks
the Reporter's ``/products`` answers: per day the sum of the clusters' daily peaks, the
highest, the earliest day. SPEC 3's period rules; the database is read in a worker thread.
"""

from __future__ import annotations

import functools

import anyio
from starlette.requests import Request
from starlette.responses import Response

from license_service.fleet.fleet_store import fleet_daily_sums
from license_service.metering.compliance import ComplianceRow, compliance_rows
from license_service.metering.fleet_sums import fleet_peaks
from license_service.metering.periods import DatePeriod
from license_service.metering.usage_rows import PRODUCT_ROWS
from license_service.web.authentication import Endpoint
from license_service.web.reporter.reporter_state import ReporterState
from license_service.web.reports.compliance_route import PATH, encoded
from license_service.web.reports.period_parameters import report_query
from license_service.web.reports.report_responses import report_response

COMPLIANCE_PATH = PATH


def fleet_compliance(
    state: ReporterState, period: DatePeriod, *, metric: str | None = None
) -> list[ComplianceRow]:
    """The fleet's ``/compliance`` rows over ``period``; blocking (reads the database)."""
    with state.database.read() as connection:
        sums = fleet_daily_sums(connection, PRODUCT_ROWS, period, metric=metric)
    peaks = fleet_peaks(PRODUCT_ROWS, [sums])
    return compliance_rows(peaks, state.entitlements(), period=period, metric=metric)


def compliance_endpoint(state: ReporterState) -> Endpoint:
    """The handler of the Reporter's ``GET /compliance``."""

    async def answer(request: Request) -> Response:
        query = report_query(request.query_params, today=state.today())
        read = functools.partial(fleet_compliance, state, query.period, metric=query.metric)
        rows = await anyio.to_thread.run_sync(read)
        return report_response(
            encoded(rows, query.format),
            format=query.format,
            csv_file_name=f"compliance_{query.period}.csv",
        )

    return answer
