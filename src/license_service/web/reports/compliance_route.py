"""``GET /compliance`` (SPEC 13): each product's period peak beside what was bought.

The period, ``metricName`` and ``format`` follow SPEC 3's rules (``report_query``). The
store's period peaks of ``/products`` are read in a worker thread and compared with the
entitlements in force (``metering.compliance``: the quantity entitled on the peak day);
the answer is JSON or, with ``format=csv``, CSV written as every other CSV output. Not
cached: entitlements change without a write to the store. ``compliance_body`` is the
one reading, shared with ``/status``.
"""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from license_service.formats.csv_lines import csv_line, header_line
from license_service.metering.compliance import (
    COMPLIANCE_API_NAMES,
    ComplianceRow,
    compliance_cells,
    compliance_json,
    compliance_rows,
)
from license_service.metering.periods import DatePeriod
from license_service.metering.usage_rows import PRODUCT_ROWS
from license_service.store.period_peaks import period_peaks
from license_service.web.app_state import AppState
from license_service.web.authentication import Endpoint
from license_service.web.reports.period_parameters import report_query
from license_service.web.reports.report_responses import report_response

PATH = "/compliance"


def read_compliance(
    state: AppState, period: DatePeriod, *, metric: str | None = None
) -> list[ComplianceRow]:
    """The rows of ``/compliance`` over ``period``; blocking (reads the store)."""
    with state.database.read() as connection:
        peaks = period_peaks(
            connection, PRODUCT_ROWS, cluster_id=state.cluster_id, period=period, metric=metric
        )
    return compliance_rows(peaks, state.entitlements(), period=period, metric=metric)


def encoded(rows: list[ComplianceRow], format: str) -> bytes:
    """``rows`` as the body of ``/compliance`` in ``format`` (``json`` or ``csv``)."""
    if format == "csv":
        return b"".join(
            [header_line(COMPLIANCE_API_NAMES), *(csv_line(compliance_cells(r)) for r in rows)]
        )
    document = [compliance_json(row) for row in rows]
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def compliance_endpoint(state: AppState) -> Endpoint:
    """The handler of ``GET /compliance``."""

    async def answer(request: Request) -> Response:
        query = report_query(request.query_params, today=state.today())
        rows = await run_in_threadpool(read_compliance, state, query.period, metric=query.metric)
        body = encoded(rows, query.format)
        return report_response(
            body, format=query.format, csv_file_name=f"compliance_{query.period}.csv"
        )

    return answer
