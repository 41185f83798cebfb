"""The Reporter's read API (SPEC 11): the fleet's ``/products``, ``/bundled_products``,
``/services``, and ``/clusters`` and ``/contributions``.

SPEC 3's rules, by the same machinery as License Service's reports: the period,
``metricName`` and ``format`` parameters (``period_parameters``), the row shapes and
CSV of the row specs (``report_bodies.Report.encoded``), the JSON error answers.
``clusterId=`` narrows a report to one cluster. The numbers are ``fleet_sums``': per
day the sum of the clusters' daily peaks, the highest, the earliest day.

The three reports and ``/clusters`` take their bodies from License Service's
``cached_reports`` (keyed by report, cluster filter, period, metric and format): a kept
body is answered on the event loop, a miss is read once per key in a worker thread,
and every write drops them: this process's, and (PostgreSQL) any other replica's or
CLI command's, told by ``Database.notify_other_replicas``. ``/contributions`` reads
the database in a worker thread at each request.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import anyio
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
from license_service.metering.periods import MAX_PERIOD_DAYS, DatePeriod
from license_service.metering.usage_rows import PRODUCT_ROWS
from license_service.web.authentication import Endpoint
from license_service.web.reporter.reporter_state import ReporterState
from license_service.web.reports.cached_reports import CachedReports
from license_service.web.reports.period_parameters import ReportFormat, ReportQuery, report_query
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


@dataclass(frozen=True, slots=True)
class _ClusterList:
    """``/clusters`` as the body cache names it."""

    name: str = "clusters"

    @property
    def path(self) -> str:
        return f"/{self.name}"


CLUSTER_LIST: Final = _ClusterList()


def fleet_report_endpoints(state: ReporterState) -> dict[str, Endpoint]:
    """The handler of each read endpoint, by path; the reports and ``/clusters`` share one
    cache of bodies."""
    bodies = fleet_bodies(state)
    return {
        **{report.path: _report_endpoint(state, report, bodies) for report in REPORTS},
        "/clusters": _clusters_endpoint(state, bodies),
        "/contributions": _contributions_endpoint(state),
    }


def fleet_bodies(state: ReporterState) -> CachedReports:
    """The kept bodies of the fleet's reports and cluster list, dropped by every write."""
    return CachedReports(
        state.database,
        functools.partial(_read_bodies, state),
        today=state.today,
        longest_days=lambda: MAX_PERIOD_DAYS,
    )


def _read_bodies(
    state: ReporterState,
    report: Report[Any] | _ClusterList,
    *,
    cluster_id: str | None,
    period: DatePeriod,
    metric: str | None,
    formats: Collection[ReportFormat],
) -> dict[ReportFormat, bytes]:
    """The bodies of ``report`` in each of ``formats``, from one read; blocking."""
    if isinstance(report, _ClusterList):
        documents = cluster_documents(state, period)
        return {f: _encoded(documents, CLUSTER_COLUMNS, f) for f in formats}
    with state.database.read() as connection:
        sums = fleet_daily_sums(
            connection, report.rows, period, cluster_id=cluster_id, metric=metric
        )
    peaks = fleet_peaks(report.rows, [sums])
    return {f: report.encoded(peaks, f) for f in formats}


def cluster_from(query: Mapping[str, str]) -> str | None:
    """The ``clusterId`` filter (absent or empty: every cluster)."""
    cluster_id = query.get("clusterId") or None
    found = None if cluster_id is None else first_unsafe_character(cluster_id)
    if found is not None:
        raise RequestError(
            f"clusterId holds {found.describe()}: give a cluster id as /clusters lists it"
        )
    return cluster_id


def _report_endpoint(state: ReporterState, report: Report[Any], bodies: CachedReports) -> Endpoint:
    async def answer(request: Request) -> Response:
        today = state.today()
        query = report_query(request.query_params, today=today)
        cluster_id = cluster_from(request.query_params)
        body = await bodies.body(report, query, today=today, cluster_id=cluster_id)
        return _answer(report.name, query, body)

    return answer


def _clusters_endpoint(state: ReporterState, bodies: CachedReports) -> Endpoint:
    async def answer(request: Request) -> Response:
        today = state.today()
        query = report_query(request.query_params, today=today)
        # /clusters lists every cluster (no filter): its metric parameter changes nothing.
        query = ReportQuery(query.period, None, query.format)
        body = await bodies.body(CLUSTER_LIST, query, today=today)
        return _answer("clusters", query, body)

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
        body = _encoded(documents, CONTRIBUTION_COLUMNS, query.format)
        return _answer("contributions", query, body)

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
    documents: Sequence[Mapping[str, Any]], columns: Sequence[str], format: ReportFormat
) -> bytes:
    if format == "csv":
        return b"".join(documents_csv(documents, columns))
    return json.dumps(list(documents), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
