"""``groupName=`` on the report endpoints and ``GET /chargeback_groups`` (SPEC 8).

A report asked for one chargeback group answers the very rows of the endpoint (same
fields, order, JSON and CSV), read from the group's daily peaks
(``usage_rows.CHARGEBACK_*``) with the group name left out. While chargeback is off,
``groupName`` is refused (400) with how to turn it on: a client must never be given
the whole cluster's usage for a group. A group without data in the period answers
``[]``. Group bodies are not cached: each request reads the store in a worker thread.

``/chargeback_groups`` lists the groups as the namespaces are labelled now (from the
cluster view), on or off: labelling comes before turning chargeback on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response

from license_service.errors import RequestError
from license_service.formats.csv_lines import csv_line, header_line
from license_service.formats.unsafe_characters import first_unsafe_character
from license_service.metering.chargeback_groups import namespace_groups
from license_service.metering.row_specs import PeriodPeak
from license_service.metering.usage_rows import CHARGEBACK_ROWS
from license_service.store.period_peaks import period_peaks
from license_service.web.app_state import AppState
from license_service.web.authentication import Endpoint
from license_service.web.reports.period_parameters import ReportQuery, format_from
from license_service.web.reports.report_bodies import Report
from license_service.web.reports.report_responses import report_response

GROUP_PARAMETER: Final = "groupName"
CHARGEBACK_OFF: Final = (
    "groupName is refused: chargeback groups are off, so no group's usage is measured. "
    "Turn them on with spec.chargebackEnabled: true in the IBMLicensing resource (or the "
    "--config file), label namespaces ibm-chargeback-group=<group>, and ask again after "
    "the next sample; leave groupName out for the whole cluster"
)


def group_from(query: Mapping[str, str], *, chargeback_enabled: bool) -> str | None:
    """The ``groupName`` asked for (``None``: none); ``RequestError`` when chargeback is off
    or the name cannot be a group's; pure."""
    if GROUP_PARAMETER not in query:
        return None
    if not chargeback_enabled:
        raise RequestError(CHARGEBACK_OFF)
    group = query[GROUP_PARAMETER]
    if not group:
        raise RequestError(
            "groupName is empty: give a group as GET /chargeback_groups lists it, or leave "
            "groupName out for the whole cluster"
        )
    found = first_unsafe_character(group)
    if found is not None:
        raise RequestError(
            f"groupName holds {found.describe()}, which no group name can hold: give a group "
            "as GET /chargeback_groups lists it"
        )
    return group


def group_body(state: AppState, report: Report[Any], query: ReportQuery, group: str) -> bytes:
    """``report``'s body for ``group`` (its rows without ``groupName``); blocking."""
    group_rows = CHARGEBACK_ROWS[report.rows]
    with state.database.read() as connection:
        peaks = period_peaks(
            connection,
            group_rows,
            cluster_id=state.cluster_id,
            period=query.period,
            metric=query.metric,
            group=group,
        )
    make = report.rows.make
    rows = [PeriodPeak(make(peak.row[1:]), peak.peak_date) for peak in peaks]
    return report.encoded(rows, query.format)


async def group_report_body(
    state: AppState, report: Report[Any], query: ReportQuery, group: str
) -> bytes:
    """``group_body`` in a worker thread."""
    return await anyio.to_thread.run_sync(group_body, state, report, query, group)


def chargeback_groups_endpoint(state: AppState) -> Endpoint:
    """``GET /chargeback_groups``: ``[{"groupName", "namespaces"}]`` as labelled now."""

    async def answer(request: Request) -> Response:
        format = format_from(request.query_params)
        current = state.source_state()
        groups = namespace_groups(current.view).namespaces_of() if current is not None else {}
        if format == "csv":
            lines = [header_line(("groupName", "namespace"))]
            lines += [
                csv_line((group, namespace))
                for group, namespaces in groups.items()
                for namespace in namespaces
            ]
            return report_response(
                b"".join(lines), format=format, csv_file_name="chargeback_groups.csv"
            )
        body = [
            {"groupName": group, "namespaces": namespaces} for group, namespaces in groups.items()
        ]
        encoded = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return report_response(encoded, format=format, csv_file_name="chargeback_groups.csv")

    return answer
