"""The CSV files of an audit snapshot (SPEC 5): the format, and the period files' lines.

The period files' functions turn rows of the store into the lines of one file, as
bytes: the header first (so an empty period gives a header-only file), then one line
per row, in the API's order (sorted here). The daily files are written by
``daily_files`` with the same cells, from rows streamed by ``store.daily_rows``.

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
- Order: period files in the API's order; daily files by day, then in the API's
  order, as ``store.daily_rows`` yields them: the same data always gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Final

from license_service.audit.decimal_numbers import decimal_text
from license_service.metering.cluster_view import ClusterId
from license_service.store.report_rows import (
    BundledProductPeak,
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


def _quoted(field: str) -> str:
    if _NEEDS_QUOTES.isdisjoint(field):
        return field
    return '"' + field.replace('"', '""') + '"'
