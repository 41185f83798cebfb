"""The Reporter's ``/status`` (SPEC 11): a plain page of the clusters, refusals, products and
the fleet's compliance (SPEC 13).

Every value that came from a cluster (ids, names, product names) is escaped: a cluster
name is whatever its operator typed. The charts are on ``/``, which this page links to.
It runs the script of ``/`` (``fleet_page_script``), so that a tab opened here with
``?token=`` keeps the token and its link to ``/`` carries it when followed, as ``/``'s own
links do; the page's policy allows only its own nonce'd style and that script.
"""

from __future__ import annotations

import functools
import html
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response

from license_service.fleet.fleet_store import fleet_daily_sums, refusals
from license_service.formats.decimal_numbers import decimal_text
from license_service.metering.compliance import compliance_cells, compliance_rows
from license_service.metering.fleet_sums import fleet_peaks
from license_service.metering.periods import DatePeriod
from license_service.metering.usage_rows import PRODUCT_ROWS
from license_service.web.authentication import Endpoint
from license_service.web.pages.page_responses import page_response
from license_service.web.reporter.fleet_page_script import FLEET_SCRIPT
from license_service.web.reporter.fleet_reports import cluster_documents
from license_service.web.reporter.reporter_state import ReporterState
from license_service.web.timestamps import utc_text


def status_endpoint(state: ReporterState) -> Endpoint:
    """The handler of the Reporter's ``GET /status``."""

    async def answer(request: Request) -> Response:
        del request
        nonce = secrets.token_urlsafe(18)
        page = await anyio.to_thread.run_sync(functools.partial(_page, state, nonce))
        return page_response(page, nonce=nonce, script=True)

    return answer


def _page(state: ReporterState, nonce: str) -> str:
    period = DatePeriod.ending(state.today())
    clusters = cluster_documents(state, period)
    with state.database.read() as connection:
        refused = refusals(connection, limit=50)
        sums = fleet_daily_sums(connection, PRODUCT_ROWS, period)
    peaks = fleet_peaks(PRODUCT_ROWS, [sums])
    cluster_rows = [
        (
            c["clusterId"],
            c["clusterName"],
            c["serviceVersion"],
            c["lastPushAt"] or "never (imported)",
            c["lastDay"] or "none",
            c["keyFingerprint"],
            ", ".join(c["missingDays"]) or "none",
        )
        for c in clusters
    ]
    refusal_rows = [
        (r.cluster_id, utc_text(r.refused_at), r.source, r.fingerprint, r.pinned_fingerprint)
        for r in refused
    ]
    product_rows = [
        (p.row.name, p.row.id, p.row.metric, p.row.quantity, p.peak_date.isoformat()) for p in peaks
    ]
    compliance = compliance_rows(peaks, state.entitlements(), period=period)
    return "".join(
        [
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
            # The empty icon spares browsers asking for a /favicon.ico that is not there.
            "<link rel='icon' href='data:,'>",
            "<title>License Service Reporter: status</title>",
            f"<style nonce='{nonce}'>table{{border-collapse:collapse}}td,th{{border:1px solid "
            "#999;padding:2px 6px;text-align:left}}</style></head><body>",
            f"<h1>License Service Reporter {_e(state.version.version)}</h1>",
            "<p><a id='link-page' href='/' data-token>The fleet's page</a>: any period, a metric "
            "filter, and the charts of the daily sums by cluster.</p>",
            f"<p>Period: {period.first.isoformat()} to {period.last.isoformat()} (UTC). "
            f"Database: {_e(state.database.url)}.</p>",
            _snapshot_paragraph(state, period),
            "<h2>Clusters</h2>",
            _table(
                ("Cluster id", "Name", "Version", "Last push", "Last day", "Key", "Missing days"),
                cluster_rows,
            ),
            "<h2>Refused pushes and imports</h2>",
            "<p>Signed by another key than the one pinned for the cluster; accept a new key "
            "with <code>license-service reporter trust CLUSTER_ID</code>.</p>",
            _table(("Cluster id", "Refused at", "How", "Key sent", "Key pinned"), refusal_rows),
            "<h2>Products of the fleet (highest daily sum)</h2>",
            _table(("Product", "Id", "Metric", "Quantity", "Peak date"), product_rows),
            "<h2>Compliance of the fleet (peak against entitlement)</h2>",
            _table(COMPLIANCE_HEADER, (compliance_cells(row) for row in compliance)),
            # Literal script text: nothing from the request or the database is in it.
            f"<script nonce='{nonce}'>{FLEET_SCRIPT}</script>",
            "</body></html>",
        ]
    )


def _snapshot_paragraph(state: ReporterState, period: DatePeriod) -> str:
    """Where the signed snapshot of the period is, and the key that signs it."""
    path = f"/snapshot?dateFrom={period.first.isoformat()}&dateTo={period.last.isoformat()}"
    key = state.signing_key.fingerprint if state.signing_key else "none (no snapshot)"
    return (
        f"<p>Audit snapshot of this period: <code>{_e(path)}</code> (a zip, signed by the "
        f"Reporter's key {_e(key)}).</p>"
    )


COMPLIANCE_HEADER = (
    "Product",
    "Id",
    "Metric",
    "Entitled",
    "Quantity",
    "Peak date",
    "Headroom",
    "Used %",
    "Status",
)


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["<table><tr>", *(f"<th>{_e(name)}</th>" for name in header), "</tr>"]
    count = 0
    for row in rows:
        count += 1
        lines.append("<tr>" + "".join(f"<td>{_e(_text(v))}</td>" for v in row) + "</tr>")
    if not count:
        lines.append(f"<tr><td colspan='{len(header)}'>none</td></tr>")
    lines.append("</table>")
    return "".join(lines)


def _text(value: Any) -> str:
    return str(value) if not hasattr(value, "denominator") else decimal_text(value)


def _e(text: str) -> str:
    return html.escape(text, quote=True)
