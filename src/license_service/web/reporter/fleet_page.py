"""What the Reporter's page ``/`` (SPEC 11) shows, gathered in one blocking call.

``fleet_page`` reads, in one read transaction, the clusters, the fleet's daily sums of
``/products`` rows of the period (days x keys rows) and, for each charted product,
its clusters ranked by their value on its peak day and the daily values of the
largest few (``fleet.cluster_shares``), and returns a ``FleetPage``: text, cells and
charts, which the template escapes. Bounded whatever the fleet's size: at most ``MAX_CLUSTER_ROWS``
clusters listed, ``MAX_CHARTS`` charts of ``stacked_charts.MAX_BANDS`` bands, and
``BAR_BUDGET`` bars in all (long periods chart fewer products); the page says what it
left out and where to find it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from sqlalchemy import Connection

from license_service.fleet.cluster_shares import cluster_values, clusters_on_day
from license_service.fleet.fleet_store import cluster_records, fleet_daily_sums
from license_service.formats.csv_lines import Cell
from license_service.metering.fleet_sums import daily_sums, fleet_peaks
from license_service.metering.periods import MAX_PERIOD_DAYS, DatePeriod
from license_service.metering.row_specs import PeriodPeak
from license_service.metering.usage_rows import PRODUCT_ROWS, ProductUsage
from license_service.web.pages.status_links import period_text
from license_service.web.reporter.fleet_page_links import PageLink, metric_links, period_links
from license_service.web.reporter.fleet_reports import cluster_documents
from license_service.web.reporter.reporter_state import ReporterState
from license_service.web.reporter.stacked_charts import (
    MAX_BANDS,
    ClusterSeries,
    StackedChart,
    shown_clusters,
    stacked_chart,
)

MAX_CLUSTER_ROWS: Final = 200
MAX_CHARTS: Final = 12
BAR_BUDGET: Final = 12_000
"""Bars drawn on one page at most: 12 charts of 6 bands over 166 days."""
MISSING_SHOWN: Final = 5
"""Missing days named per cluster; the count says how many more (``/clusters`` lists all)."""
CLUSTERS_HEAD: Final = (
    "Cluster",
    "Id",
    "Version",
    "Last push",
    "Last day",
    "Missing days",
    "Key fingerprint",
    "Refused key",
)
PRODUCTS_HEAD: Final = ("Product", "Id", "Metric", "Highest daily sum", "Peak date")
Cells = tuple[Cell, ...]


@dataclass(frozen=True, slots=True)
class FleetPage:
    """Everything ``/`` shows, as text, cells and charts."""

    version: str
    period_text: str
    metric: str | None
    period_links: list[PageLink]
    metric_links: list[PageLink]
    cluster_count: int
    clusters: list[Cells]
    clusters_more: int
    products: list[Cells]
    charts: list[StackedChart]
    charts_note: str
    max_days: int = MAX_PERIOD_DAYS
    clusters_head: tuple[str, ...] = CLUSTERS_HEAD
    products_head: tuple[str, ...] = PRODUCTS_HEAD


def fleet_page(state: ReporterState, period: DatePeriod, metric: str | None) -> FleetPage:
    """The page of ``period`` and ``metric`` (``None``: every metric); blocking."""
    today = state.today()
    documents = cluster_documents(state, period)
    with state.database.read() as connection:
        records = cluster_records(connection)
        every = fleet_daily_sums(connection, PRODUCT_ROWS, period)
        sums = {
            day: [row for row in rows if metric is None or row.metric == metric]
            for day, rows in every.items()
        }
        peaks = fleet_peaks(PRODUCT_ROWS, [sums])
        by_key = daily_sums(PRODUCT_ROWS, [sums])
        names = {record.cluster_id: record.cluster_name for record in records}
        charts: list[StackedChart] = []
        bars = 0
        for peak in peaks[:MAX_CHARTS]:
            chart = _chart(
                connection,
                period,
                index=len(charts),
                peak=peak,
                fleet=by_key.get(PRODUCT_ROWS.key_of(peak.row), {}),
                names=names,
            )
            if bars + chart.bars > BAR_BUDGET:
                break
            bars += chart.bars
            charts.append(chart)
    pending = {record.cluster_id: record.pending_fingerprint for record in records}
    return FleetPage(
        version=state.version.version,
        period_text=period_text(period, today=today),
        metric=metric,
        period_links=period_links(today=today, shown=period, metric=metric),
        metric_links=metric_links(
            (row.metric for rows in every.values() for row in rows), period=period, shown=metric
        ),
        cluster_count=len(documents),
        clusters=[
            _cluster_cells(d, pending.get(d["clusterId"])) for d in documents[:MAX_CLUSTER_ROWS]
        ],
        clusters_more=max(0, len(documents) - MAX_CLUSTER_ROWS),
        products=[
            (p.row.name, p.row.id, p.row.metric, p.row.quantity, p.peak_date.isoformat())
            for p in peaks
        ],
        charts=charts,
        charts_note=_charts_note(len(peaks), len(charts)),
    )


def _chart(
    connection: Connection,
    period: DatePeriod,
    *,
    index: int,
    peak: PeriodPeak[ProductUsage],
    fleet: Mapping[date, int],
    names: Mapping[str, str],
) -> StackedChart:
    """The chart of ``peak``'s key: the clusters largest on its peak day, and the others."""
    row = peak.row
    key = (row.id, row.metric)
    ranked = clusters_on_day(connection, PRODUCT_ROWS, key=key, day=peak.peak_date)
    shown = shown_clusters(ranked)
    values = cluster_values(connection, PRODUCT_ROWS, period, key=key, cluster_ids=shown)
    return stacked_chart(
        f"fleet-chart-{index}",
        name=row.name,
        key=key,
        period=period,
        fleet=fleet,
        clusters=[
            ClusterSeries(cluster_id, names.get(cluster_id, ""), values.get(cluster_id, {}))
            for cluster_id in shown
        ],
    )


def _cluster_cells(document: Mapping[str, Any], pending: str | None) -> Cells:
    missing: list[str] = document["missingDays"]
    if not missing:
        missing_text = "none"
    else:
        named = ", ".join(missing[:MISSING_SHOWN])
        more = len(missing) - MISSING_SHOWN
        missing_text = f"{len(missing)}: {named}" + (f" and {more} more" if more > 0 else "")
    return (
        document["clusterName"],
        document["clusterId"],
        document["serviceVersion"],
        document["lastPushAt"] or "never (imported)",
        document["lastDay"] or "none",
        missing_text,
        document["keyFingerprint"],
        (f"{pending}, refused: license-service reporter trust {document['clusterId']} accepts it")
        if pending
        else "none",
    )


def _charts_note(products: int, charted: int) -> str:
    if products == 0:
        return "No product to chart in the period."
    text = (
        "Each column is a day: one bar per cluster, stacked, as high as the fleet's daily "
        f"sum. Up to {MAX_BANDS} clusters of a product have a colour each: those with the "
        "highest values on its peak day (the clusters that make the fleet's peak); when "
        f"more contribute, the largest {MAX_BANDS - 1} do and the others share one grey band."
    )
    if charted < products:
        text += (
            f" {charted} of {products} products are charted (at most {MAX_CHARTS}, and fewer "
            "for long periods, to keep the page light): filter by metric or shorten the "
            "period to chart the others; the table lists them all."
        )
    return text
