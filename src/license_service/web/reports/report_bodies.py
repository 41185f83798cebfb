"""The three report endpoints' bodies: period peaks read from the store, as JSON or CSV.

``REPORTS`` describes ``/products``, ``/bundled_products`` and ``/services`` (name,
row specification, store query), so one handler serves all three; the JSON rows, CSV
header and cells are the specification's (``metering.usage_rows``).
``report_bodies`` is synchronous (it reads the database once and encodes the rows in
each format asked for) and must run in a worker thread; ``cached_reports`` keeps what it
returns. Rows come sorted by the store, the API's way (SPEC 3.2:
``name``, ``id``, ``metricName``); JSON is compact UTF-8; CSV is written by the same
functions as the snapshot's (``formats.csv_lines``), so API and snapshot CSV agree on
quoting and the formula guard.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, Protocol, TypeVar

from sqlalchemy import Connection

from license_service.formats.csv_lines import csv_line, header_line
from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.metering.row_specs import PeriodPeak, R, RowSpec
from license_service.metering.usage_rows import BUNDLED_PRODUCT_ROWS, PRODUCT_ROWS, SERVICE_ROWS
from license_service.store.database import Database
from license_service.store.period_peaks import period_peaks
from license_service.web.reports.period_parameters import ReportFormat

_Rows = TypeVar("_Rows")


class PeakQuery(Protocol[_Rows]):
    """A store function reading the period peaks of one report."""

    def __call__(
        self,
        connection: Connection,
        *,
        cluster_id: ClusterId,
        period: DatePeriod,
        metric: str | None = None,
    ) -> list[_Rows]: ...


@dataclass(frozen=True, slots=True)
class Report(Generic[R]):
    """One report endpoint: its name (and path), its rows' specification and store query."""

    name: str
    rows: RowSpec[R]
    peaks: PeakQuery[PeriodPeak[R]]

    @property
    def path(self) -> str:
        """The endpoint's path, ``/<name>``."""
        return f"/{self.name}"

    @property
    def columns(self) -> tuple[str, ...]:
        """The names of a row's fields: JSON keys and CSV header, in the API's order."""
        return self.rows.period_api_names

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

    def encoded(self, peaks: Sequence[PeriodPeak[R]], format: ReportFormat) -> bytes:
        """``peaks`` (sorted, as the store returns them) encoded as ``format``."""
        if format == "csv":
            lines = [header_line(self.columns)]
            lines.extend(csv_line(self.rows.period_cells(peak)) for peak in peaks)
            return b"".join(lines)
        rows = [self.rows.period_json(peak) for peak in peaks]
        return json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _report(name: str, rows: RowSpec[R]) -> Report[R]:
    return Report(name, rows, functools.partial(period_peaks, rows=rows))


PRODUCTS: Final = _report("products", PRODUCT_ROWS)
BUNDLED_PRODUCTS: Final = _report("bundled_products", BUNDLED_PRODUCT_ROWS)
SERVICES: Final = _report("services", SERVICE_ROWS)
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
