"""The Reporter's read API (SPEC 11): the fleet's ``/products``, ``/bundled_products``,
``/services``, and ``/clusters`` and ``/contributions``.

SPEC 3's rules, by the same machinery as License Service's reports: the period,
``metricName`` and ``format`` parameters (``period_parameters``), the row shapes and
CSV of the row specs (``report_bodies.Report.encoded``), the JSON error answers.
``clusterId=`` narrows a report to one cluster. The numbers are ``fleet_sums``': per
day the sum of the clusters' daily peaks, the highest, the earliest day. The database
is read in a worker thread; report bodies are kept while no replica writes
(``fleet_bodies``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any

import anyio
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response

from license_service.errors import RequestError
from license_service.fleet import cluster_list
from license_service.fleet.cluster_list import CLUSTER_COLUMNS, documents_csv
from license_service.fleet.fleet_store import (
    cluster_daily_rows,
    cluster_records,
    fleet_daily_sums,
)
from license_service.formats.unsafe_characters import first_unsafe_character
from license_service.metering.fleet_sums import contributions, fleet_peaks
from license_service.metering.periods import DatePeriod
from license_service.metering.usage_rows import PRODUCT_ROWS
from license_service.web.authentication import Endpoint
from license_service.web.reporter.fleet_bodies import FleetBodies
from license_service.web.reporter.reporter_state import ReporterState
from license_service.web.reports.period_parameters import ReportQuery, report_query
from license_service.web.reports.report_bodies import REPORTS, Report
from license_service.web.reports.report_responses import report_response

__all__ = ["CLUSTER_COLUMNS", "cluster_documents", "cluster_from", "fleet_report_endpoints"]

CONTRIBUTION_COLUMNS = (
    "clusterId",
    "clusterName",
    "productId",
    "metricName",
    "metricPeakDate",
    "metricQuantity",
    "reported",
)


def fleet_report_endpoints(state: ReporterState) -> dict[str, Endpoint]:
    """The handler of each read endpoint, by path."""
    bodies = FleetBodies(state.database)
    return {
        **{report.path: _report_endpoint(state, report, bodies) for report in REPORTS},
        "/clusters": _clusters_endpoint(state),
        "/contributions": _contributions_endpoint(state),
    }


def cluster_from(query: Mapping[str, str]) -> str | None:
    """The ``clusterId`` filter (absent or empty: every cluster)."""
    cluster_id = query.get("clusterId") or None
    found = None if cluster_id is None else first_unsafe_character(cluster_id)
    if found is not None:
        raise RequestError(
            f"clusterId holds {found.describe()}: give a cluster id as /clusters lists it"
        )
    return cluster_id


def _report_endpoint(state: ReporterState, report: Report[Any], bodies: FleetBodies) -> Endpoint:
    async def answer(request: Request) -> Response:
        query = report_query(request.query_params, today=state.today())
        cluster_id = cluster_from(request.query_params)
        compute = functools.partial(_report_body, report, query, cluster_id)
        key = (report.name, cluster_id, query.period, query.metric, query.format)
        body = await anyio.to_thread.run_sync(bodies.body, key, compute)
        return _answer(report.name, query, body)

    return answer


def _report_body(
    report: Report[Any], query: ReportQuery, cluster_id: str | None, connection: Connection
) -> bytes:
    sums = fleet_daily_sums(
        connection, report.rows, query.period, cluster_id=cluster_id, metric=query.metric
    )
    return report.encoded(fleet_peaks(report.rows, [sums]), query.format)


def _clusters_endpoint(state: ReporterState) -> Endpoint:
    async def answer(request: Request) -> Response:
        query = report_query(request.query_params, today=state.today())
        read = functools.partial(cluster_documents, state, query.period)
        documents = await anyio.to_thread.run_sync(read)
        return _answer("clusters", query, _encoded(documents, CLUSTER_COLUMNS, query))

    return answer


def cluster_documents(state: ReporterState, period: DatePeriod) -> list[dict[str, Any]]:
    """The ``/clusters`` rows of ``period``: each cluster, its key and its missing days."""
    with state.database.read() as connection:
        return cluster_list.cluster_documents(connection, period, today=state.today())


def _contributions_endpoint(state: ReporterState) -> Endpoint:
    async def answer(request: Request) -> Response:
        query = report_query(request.query_params, today=state.today())
        product_id = request.query_params.get("productId") or None
        if product_id is None or query.metric is None:
            raise RequestError(
                "give productId and metricName, e.g. "
                "/contributions?productId=<id of /products>&metricName=VIRTUAL_PROCESSOR_CORE"
            )
        read = functools.partial(_contribution_documents, state, query, product_id)
        documents = await anyio.to_thread.run_sync(read)
        return _answer("contributions", query, _encoded(documents, CONTRIBUTION_COLUMNS, query))

    return answer


def _contribution_documents(
    state: ReporterState, query: ReportQuery, product_id: str
) -> list[dict[str, Any]]:
    """Each cluster's daily peak of the product and metric on the fleet's peak day."""
    with state.database.read() as connection:
        by_cluster = cluster_daily_rows(connection, PRODUCT_ROWS, query.period, metric=query.metric)
        names = {r.cluster_id: r.cluster_name for r in cluster_records(connection)}
    key = (product_id, query.metric)
    peaks = [
        p
        for p in fleet_peaks(PRODUCT_ROWS, by_cluster.values())
        if PRODUCT_ROWS.key_of(p.row) == key
    ]
    if not peaks:
        return []
    day = peaks[0].peak_date
    everyone = {cluster_id: by_cluster.get(cluster_id, {}) for cluster_id in names}
    return [
        {
            "clusterId": found.cluster_id,
            "clusterName": names.get(found.cluster_id, ""),
            "productId": product_id,
            "metricName": query.metric,
            "metricPeakDate": day.isoformat(),
            "metricQuantity": found.value,
            "reported": found.reported,
        }
        for found in contributions(PRODUCT_ROWS, everyone, key, day)
    ]


def _answer(name: str, query: ReportQuery, body: bytes) -> Response:
    """JSON, or CSV as a download named for the report and the period (as /products does)."""
    return report_response(body, format=query.format, csv_file_name=f"{name}_{query.period}.csv")


def _encoded(
    documents: Sequence[Mapping[str, Any]], columns: Sequence[str], query: ReportQuery
) -> bytes:
    if query.format == "csv":
        return b"".join(documents_csv(documents, columns))
    return json.dumps(list(documents), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
