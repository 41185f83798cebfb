"""The compliance section of ``/status`` (SPEC 13): the ``/compliance`` rows and the charts.

``status_compliance`` reads, in the caller's read transaction, the period's daily peaks
of ``/products`` rows (streamed a day at a time, only the charted products' kept), and
gives the rows of ``/compliance`` as table cells and a chart for each of the first
``MAX_CHARTS`` products (``usage_charts``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from sqlalchemy import Connection

from license_service.formats.csv_lines import Cell
from license_service.metering.cluster_view import ClusterId
from license_service.metering.compliance import compliance_cells, compliance_rows
from license_service.metering.entitlements import Entitlements, ProductKey
from license_service.metering.periods import DatePeriod
from license_service.metering.row_specs import PeriodPeak
from license_service.metering.usage_rows import PRODUCT_ROWS, ProductUsage
from license_service.store.daily_rows import rows_by_day
from license_service.web.pages.usage_charts import UsageChart, usage_charts

COMPLIANCE_HEAD: Final = (
    "Product",
    "Id",
    "Metric",
    "Entitled",
    "Peak",
    "Peak day",
    "Headroom",
    "Used %",
    "Status",
)
Cells = tuple[Cell, ...]


@dataclass(frozen=True, slots=True)
class ComplianceSection:
    """The rows of ``/compliance`` as cells, and the charts."""

    rows: list[Cells]
    charts: list[UsageChart]
    head: tuple[str, ...] = COMPLIANCE_HEAD


def status_compliance(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    peaks: Sequence[PeriodPeak[ProductUsage]],
    entitlements: Entitlements,
) -> ComplianceSection:
    """The compliance rows of ``peaks`` (the period's) and a chart per product."""
    rows = compliance_rows(peaks, entitlements, period=period)
    daily: dict[ProductKey, dict[date, int]] = {}
    for day_text, stored_rows in rows_by_day(
        connection, PRODUCT_ROWS, cluster_id=cluster_id, period=period
    ):
        day = date.fromisoformat(day_text)
        for stored in stored_rows:
            row = PRODUCT_ROWS.from_stored(stored)
            daily.setdefault((row.id, row.metric), {})[day] = row.quantity
    charts = usage_charts(daily, {row.key: row.name for row in rows}, entitlements, period=period)
    # The CSV cells: exact decimals as text the table shows as numbers (80.00, -1.5).
    cells: list[Cells] = [compliance_cells(row) for row in rows]
    return ComplianceSection(rows=cells, charts=charts)
