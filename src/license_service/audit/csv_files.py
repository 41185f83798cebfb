"""The CSV files of an audit snapshot (SPEC 5), as bytes, one line at a time.

Each function turns rows of the store into the lines of one file: the header first
(so an empty period gives a header-only file), then one line per row. Pure and lazy:
nothing is read from ``rows`` before the line that needs it is asked for, so the daily
files stream however many rows they hold.

The format, decided once for every file:

- UTF-8 without a byte-order mark; RFC 4180: comma separated, CRLF after every line
  (the header's and the last's too), a field quoted only when it holds ``,``, ``"``,
  CR or LF, and a ``"`` inside it doubled.
- Formula guard: a text cell beginning with ``=``, ``+``, ``-``, ``@``, tab or carriage
  return gets a leading ``'``, so spreadsheets show it instead of running it. Numbers
  and dates are not text cells and are never prefixed.
- Numbers: integers as integers; ``metricConvertedQuantity`` by ``decimal_text`` (its
  text never starts with a guarded character: quantities are not negative).
  Dates ``YYYY-MM-DD``.
- Order: period files in the API's order (sorted here); daily files by day, then in the
  API's order, as ``store.daily_rows`` yields them. A daily row out of that order raises
  ``AuditError``: the same data must always give the same bytes.

Daily files repeat the same names, dates and quantities on most rows: their writers
format each distinct cell once (``_RepeatedCells``), the same bytes as ``csv_line``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Final, TypeVar

from license_service.audit.decimal_numbers import decimal_text
from license_service.errors import AuditError
from license_service.metering.cluster_view import ClusterId
from license_service.metering.ratios import Ratio
from license_service.store.report_rows import (
    BundledProductDay,
    BundledProductPeak,
    ProductDay,
    ProductPeak,
    ServicePeak,
)

PRODUCTS_COLUMNS: Final = (
    "name",
    "id",
    "metricName",
    "metricPeakDate",
    "metricQuantity",
    "clusterId",
)
PRODUCTS_DAILY_COLUMNS: Final = (
    "date",
    "name",
    "id",
    "metricName",
    "metricQuantity",
    "clusterId",
)
BUNDLED_PRODUCTS_COLUMNS: Final = (
    "productName",
    "productId",
    "cloudpakId",
    "cloudpakName",
    "cloudpakVersion",
    "cloudpakMetricName",
    "metricName",
    "metricPeakDate",
    "metricMeasuredQuantity",
    "metricConversion",
    "metricConvertedQuantity",
    "clusterId",
)
BUNDLED_PRODUCTS_DAILY_COLUMNS: Final = (
    "date",
    "productName",
    "productId",
    "cloudpakId",
    "cloudpakMetricName",
    "metricName",
    "metricMeasuredQuantity",
    "metricConversion",
    "metricConvertedQuantity",
    "clusterId",
)
SERVICES_COLUMNS: Final = (
    "cloudpakId",
    "cloudpakMetricName",
    "productName",
    "productId",
    "metricName",
    "serviceName",
    "serviceId",
    "serviceMetricValue",
    "metricPeakDate",
    "clusterId",
)

LINE_END: Final = "\r\n"
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
_NEEDS_QUOTES: Final = frozenset(',"\r\n')
# Bounds the cells a daily file remembers: names that change every day cannot grow it.
_MAX_REMEMBERED: Final = 100_000

_Day = TypeVar("_Day", ProductDay, BundledProductDay)


Cell = str | int | date
"""A cell: every ``str`` is a text cell (guarded); ints and dates are not text."""


def text_field(value: str) -> str:
    """A text cell as written: formula guard, then RFC 4180 quoting when needed."""
    if value.startswith(FORMULA_STARTS):
        value = "'" + value
    return _quoted(value)


def csv_line(cells: Sequence[Cell]) -> bytes:
    """One CSV line, CRLF-terminated, UTF-8."""
    fields = []
    for cell in cells:
        if isinstance(cell, str):
            fields.append(text_field(cell))
        elif isinstance(cell, date):
            fields.append(cell.isoformat())
        else:
            fields.append(str(cell))
    return (",".join(fields) + LINE_END).encode("utf-8")


def header_line(columns: Sequence[str]) -> bytes:
    """The header line of a file with ``columns``."""
    return csv_line(columns)


def products_csv(rows: Iterable[ProductPeak], *, cluster_id: ClusterId) -> Iterator[bytes]:
    """The lines of ``products_<s>.csv``."""
    yield header_line(PRODUCTS_COLUMNS)
    for row in sorted(rows):
        yield csv_line(
            (
                row.name,
                row.id,
                row.metric,
                row.peak_date,
                row.quantity,
                cluster_id,
            )
        )


def products_daily_csv(rows: Iterable[ProductDay], *, cluster_id: ClusterId) -> Iterator[bytes]:
    """The lines of ``products_daily_<s>.csv``; ``rows`` by day, then in the API's order."""
    yield header_line(PRODUCTS_DAILY_COLUMNS)
    cells = _RepeatedCells(cluster_id)
    for row in _in_order(rows, file="products_daily"):
        yield (
            f"{cells.day(row.day)},{cells.text((row.name, row.id, row.metric))},"
            f"{row.quantity}{cells.ending}"
        ).encode()


def bundled_products_csv(
    rows: Iterable[BundledProductPeak], *, cluster_id: ClusterId
) -> Iterator[bytes]:
    """The lines of ``bundled_products_<s>.csv``."""
    yield header_line(BUNDLED_PRODUCTS_COLUMNS)
    for row in sorted(rows):
        yield csv_line(
            (
                row.product_name,
                row.product_id,
                row.cloudpak_id,
                row.cloudpak_name,
                row.cloudpak_version,
                row.cloudpak_metric,
                row.metric,
                row.peak_date,
                row.measured_quantity,
                str(row.conversion),
                decimal_text(row.converted_quantity),
                cluster_id,
            )
        )


def bundled_products_daily_csv(
    rows: Iterable[BundledProductDay], *, cluster_id: ClusterId
) -> Iterator[bytes]:
    """The lines of ``bundled_products_daily_<s>.csv``; ``rows`` by day, then in the API's order."""
    yield header_line(BUNDLED_PRODUCTS_DAILY_COLUMNS)
    cells = _RepeatedCells(cluster_id)
    for row in _in_order(rows, file="bundled_products_daily"):
        names = (row.product_name, row.product_id, row.cloudpak_id, row.cloudpak_metric, row.metric)
        yield (
            f"{cells.day(row.day)},{cells.text(names)},"
            f"{cells.conversion(row.measured_quantity, row.conversion)}{cells.ending}"
        ).encode()


def services_csv(rows: Iterable[ServicePeak], *, cluster_id: ClusterId) -> Iterator[bytes]:
    """The lines of ``services_<s>.csv``: the ``/services`` columns plus ``clusterId``."""
    yield header_line(SERVICES_COLUMNS)
    for row in sorted(rows):
        yield csv_line(
            (
                row.cloudpak_id,
                row.cloudpak_metric,
                row.product_name,
                row.product_id,
                row.metric,
                row.service_name,
                row.service_id,
                row.value,
                row.peak_date,
                cluster_id,
            )
        )


class _RepeatedCells:
    """The cells a daily file repeats on every row, each written once (one file only).

    731 days of 1,000 products repeat each product's names 731 times, each day's date
    1,000 times and a few quantity/ratio pairs everywhere: written through
    ``text_field``, ``date.isoformat`` and ``decimal_text`` once each, the 878,000 rows
    of such a snapshot cost a join per row. The same bytes as ``csv_line``.
    """

    __slots__ = ("_conversions", "_day", "_day_text", "_texts", "ending")

    def __init__(self, cluster_id: ClusterId) -> None:
        self.ending = "," + text_field(cluster_id) + LINE_END
        self._texts: dict[tuple[str, ...], str] = {}
        # By measured quantity and the ratio's identity (the store hands out one object
        # per ratio text): hashing a Ratio's fractions on every row would cost more.
        self._conversions: dict[tuple[int, int], tuple[Ratio, str]] = {}
        self._day: date | None = None
        self._day_text = ""

    def day(self, day: date) -> str:
        """``day`` as ``YYYY-MM-DD``."""
        if day != self._day:
            self._day = day
            self._day_text = day.isoformat()
        return self._day_text

    def text(self, cells: tuple[str, ...]) -> str:
        """The text cells, written and joined by commas."""
        written = self._texts.get(cells)
        if written is None:
            if len(self._texts) >= _MAX_REMEMBERED:
                self._texts.clear()
            written = self._texts[cells] = ",".join(text_field(cell) for cell in cells)
        return written

    def conversion(self, measured: int, ratio: Ratio) -> str:
        """``measured,<ratio>,<converted>`` (the ratio and the converted quantity as text)."""
        key = (measured, id(ratio))
        seen = self._conversions.get(key)
        if seen is not None and seen[0] is ratio:
            return seen[1]
        if len(self._conversions) >= _MAX_REMEMBERED:
            self._conversions.clear()
        converted = decimal_text(ratio.convert(measured))
        written = f"{measured},{text_field(str(ratio))},{text_field(converted)}"
        # The ratio is kept with its text, so its identity is not reused while remembered.
        self._conversions[key] = (ratio, written)
        return written


def _quoted(field: str) -> str:
    if _NEEDS_QUOTES.isdisjoint(field):
        return field
    return '"' + field.replace('"', '""') + '"'


def _in_order(rows: Iterable[_Day], *, file: str) -> Iterator[_Day]:
    """``rows`` unchanged, checking lazily that each sorts after the one before."""
    previous: _Day | None = None
    for count, row in enumerate(rows, start=1):
        if previous is not None and row < previous:
            raise AuditError(
                f"{file} row {count} ({row.day.isoformat()}) comes before the row above it: "
                "daily rows must come by day, then in the API's order, as "
                "store.daily_rows yields them"
            )
        previous = row
        yield row
