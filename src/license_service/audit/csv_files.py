"""The period CSV files of an audit snapshot (SPEC 5) and every snapshot file's columns.

A period file is the rows of its API endpoint (``products_<s>.csv`` those of
``/products``, ...), written by their row specification (``metering.usage_rows``) with
a ``clusterId`` column last; a daily file (``daily_files``) starts with ``date`` and
prints the specification's ``daily_columns``. ``period_csv`` turns rows of the store
into the lines of one file, as bytes: the header first (so an empty period gives a
header-only file), then one line per row, in the API's order (sorted here).

Cells are written by ``formats.csv_lines`` (RFC 4180 and the formula guard, the same
for the API's ``format=csv``); ``metricConvertedQuantity`` by ``decimal_text`` (its
text never starts with a guarded character: quantities are not negative). The same
data always gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final

from license_service.formats.csv_lines import csv_line, header_line
from license_service.metering.cluster_view import ClusterId
from license_service.metering.compliance import (
    COMPLIANCE_API_NAMES,
    ComplianceRow,
    compliance_cells,
)
from license_service.metering.row_specs import PeriodPeak, R, RowSpec

CLUSTER_COLUMN: Final = "clusterId"
DATE_COLUMN: Final = "date"


def period_columns(rows: RowSpec[R]) -> tuple[str, ...]:
    """The header of the period file of ``rows``: the API's columns, then ``clusterId``."""
    return (*rows.period_api_names, CLUSTER_COLUMN)


def daily_columns(rows: RowSpec[R]) -> tuple[str, ...]:
    """The header of the daily file of ``rows``: ``date``, its daily columns, ``clusterId``."""
    return (DATE_COLUMN, *(column.api_name for column in rows.daily_columns), CLUSTER_COLUMN)


def period_csv(
    rows: RowSpec[R], peaks: Iterable[PeriodPeak[R]], *, cluster_id: ClusterId
) -> Iterator[bytes]:
    """The lines of the period file of ``rows`` (``products_<s>.csv``, ...)."""
    yield header_line(period_columns(rows))
    for peak in rows.sorted_peaks(peaks):
        yield csv_line((*rows.period_cells(peak), cluster_id))


def compliance_csv(rows: Iterable[ComplianceRow], *, cluster_id: ClusterId) -> Iterator[bytes]:
    """The lines of ``compliance_<s>.csv``: the ``/compliance`` columns, then ``clusterId``."""
    yield header_line((*COMPLIANCE_API_NAMES, CLUSTER_COLUMN))
    for row in rows:
        yield csv_line((*compliance_cells(row), cluster_id))
