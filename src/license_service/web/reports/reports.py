"""The three report endpoints' bodies: period peaks read from the store, as JSON or CSV.

``REPORTS`` describes ``/products``, ``/bundled_products`` and ``/services`` (name,
CSV columns, store query, JSON row and CSV cells), so one handler serves all three.
``report_bodies`` is synchronous (it reads the database once and encodes the rows in
each format asked for) and must run in a worker thread; ``cached_reports`` keeps what it
returns. Rows come sorted by the store, the API's way (SPEC 3.2:
``name``, ``id``, ``metricName``); JSON is compact UTF-8; CSV is written by the audit
package's functions, so API and snapshot CSV agree on quoting and the formula guard.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, Protocol, TypeVar

from sqlalchemy import Connection

from license_service.audit.csv_files import Cell, csv_line, header_line
from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.store.database import Database
from license_service.store.period_peaks import bundled_product_peaks, product_peaks, service_peaks
from license_service.store.report_rows import BundledProductPeak, ProductPeak, ServicePeak
from license_service.web.reports.period_parameters import ReportFormat
from license_service.web.reports.period_rows import (
    BUNDLED_PRODUCT_COLUMNS,
    PRODUCT_COLUMNS,
    SERVICE_COLUMNS,
    bundled_product_peak_cells,
    bundled_product_peak_row,
    product_peak_cells,
    product_peak_row,
    service_peak_cells,
    service_peak_row,
)

_Peak = TypeVar("_Peak", ProductPeak, BundledProductPeak, ServicePeak)
_Row = TypeVar("_Row")


class PeakQuery(Protocol[_Row]):
    """A store function reading the period peaks of one report."""

    def __call__(
        self,
        connection: Connection,
        *,
        cluster_id: ClusterId,
        period: DatePeriod,
        metric: str | None = None,
    ) -> list[_Row]: ...


@dataclass(frozen=True, slots=True)
class Report(Generic[_Peak]):
    """One report endpoint: its name (and path), CSV columns, store query and row formats."""

    name: str
    columns: tuple[str, ...]
    peaks: PeakQuery[_Peak]
    json_row: Callable[[_Peak], Mapping[str, Any]]
    csv_cells: Callable[[_Peak], Sequence[Cell]]

    @property
    def path(self) -> str:
        """The endpoint's path, ``/<name>``."""
        return f"/{self.name}"

    def body(
        self,
        connection: Connection,
        *,
        cluster_id: ClusterId,
        period: DatePeriod,
        metric: str | None,
        format: ReportFormat,
    ) -> bytes:
        """The report's rows encoded as ``format``."""
        peaks = self.peaks(connection, cluster_id=cluster_id, period=period, metric=metric)
        return self.encoded(peaks, format)

    def encoded(self, peaks: Sequence[_Peak], format: ReportFormat) -> bytes:
        """``peaks`` (sorted, as the store returns them) encoded as ``format``."""
        if format == "csv":
            lines = [header_line(self.columns)]
            lines.extend(csv_line(self.csv_cells(peak)) for peak in peaks)
            return b"".join(lines)
        rows = [self.json_row(peak) for peak in peaks]
        return json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


PRODUCTS: Final = Report(
    "products", PRODUCT_COLUMNS, product_peaks, product_peak_row, product_peak_cells
)
BUNDLED_PRODUCTS: Final = Report(
    "bundled_products",
    BUNDLED_PRODUCT_COLUMNS,
    bundled_product_peaks,
    bundled_product_peak_row,
    bundled_product_peak_cells,
)
SERVICES: Final = Report(
    "services", SERVICE_COLUMNS, service_peaks, service_peak_row, service_peak_cells
)
REPORTS: Final[Sequence[Report[Any]]] = (PRODUCTS, BUNDLED_PRODUCTS, SERVICES)


def report_bodies(
    database: Database,
    report: Report[Any],
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None,
    formats: Collection[ReportFormat],
) -> dict[ReportFormat, bytes]:
    """``report``'s body in each of ``formats``, from one read; blocking: run it in a thread."""
    with database.read() as connection:
        peaks = report.peaks(connection, cluster_id=cluster_id, period=period, metric=metric)
    return {format: report.encoded(peaks, format) for format in formats}
