"""The daily CSV files of a snapshot, written from streamed rows, and the period rows they imply.

``DailyFile`` turns the days of ``store.daily_rows`` (by day, each day's rows in the
API's order, in their stored form) into the lines of a daily file
(``products_daily_<s>.csv``, ``bundled_products_daily_<s>.csv``), one chunk of bytes
per day, header first; the columns are the row specification's ``daily_columns``. On
the same pass it folds each row into its key's period row with the one period-peak
rule (``metering.period_peaks``; the rows ``store.period_peaks`` gives the API, a
test compares them). ``period_rows`` then gives the rows of the period file without
reading the store again. ``period_rows_of`` folds rows alone (services have no daily
file).

A line is the day, the cells of the columns before the value (a product's names, id
and metric) and those of the value and after (a quantity, a ratio, the converted
quantity), each part remembered, already written for CSV (formula guard, quoting), by
the stored values it comes from: a product's cells are formatted once, not on each of
its 731 days. Memory grows with the keys of the period, as the period files do, never
with the days. Cells are the same bytes as ``csv_line`` writes.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from datetime import date
from typing import Any, Final, Generic

from license_service.audit.csv_files import daily_columns
from license_service.formats.csv_lines import LINE_END, cell_field, header_line, text_field
from license_service.metering.cluster_view import ClusterId
from license_service.metering.period_peaks import PeakFold
from license_service.metering.row_specs import Column, PeriodPeak, R, RowSpec
from license_service.store.daily_rows import DayRows
from license_service.store.stored_rows import StoredRow, decoded

# Bounds each part's remembered cells: values that differ on every row cannot grow it.
_MAX_REMEMBERED: Final = 100_000


class _WrittenCells:
    """Some columns of a row, written, remembered by the stored values they are written from."""

    def __init__(self, rows: RowSpec[Any], columns: Sequence[Column]) -> None:
        self._rows = rows
        self._columns = tuple(columns)
        self.source: Final[Callable[[StoredRow], Hashable]] = rows.getter(rows.reads(columns))
        self.known: dict[Hashable, str] = {}

    def write(self, row: StoredRow, source: Hashable) -> str:
        """The cells of ``row`` (whose values for them are ``source``), written and remembered."""
        if len(self.known) >= _MAX_REMEMBERED:
            self.known.clear()
        cells = self._rows.cells(decoded(self._rows, row), self._columns)
        written = self.known[source] = ",".join(map(cell_field, cells))
        return written


class DailyFile(Generic[R]):
    """The daily file of one kind of usage row, and the period file's rows it implies."""

    def __init__(self, rows: RowSpec[R], cluster_id: ClusterId) -> None:
        """Start the file of ``rows`` for ``cluster_id`` (the ``clusterId`` of every line)."""
        self.rows = 0
        """The lines written so far, the header aside."""
        self._spec = rows
        self._ending = "," + text_field(cluster_id) + LINE_END
        columns = rows.daily_columns
        value_at = [column.attribute for column in columns].index(rows.value)
        self._leading = _WrittenCells(rows, columns[:value_at])
        self._trailing = _WrittenCells(rows, columns[value_at:])
        self._fold: PeakFold[StoredRow, str] = PeakFold(key_of=rows.key_of, value_of=rows.value_of)

    def chunks(self, days: Iterable[DayRows]) -> Iterator[bytes]:
        """The header line, then the lines of each day as one chunk, read lazily."""
        yield header_line(daily_columns(self._spec))
        for day, rows in days:
            self._fold.add_day(day, rows)
            yield self._lines(day, rows)

    def _lines(self, day: str, rows: list[StoredRow]) -> bytes:
        start = day + ","
        ending = self._ending
        leading, trailing = self._leading, self._trailing
        leading_of, trailing_of = leading.source, trailing.source
        leading_known, trailing_known = leading.known.get, trailing.known.get
        lines: list[str] = []
        line = lines.append
        for row in rows:
            first = leading_of(row)
            cells = leading_known(first) or leading.write(row, first)
            rest = trailing_of(row)
            line(f"{start}{cells},{trailing_known(rest) or trailing.write(row, rest)}{ending}")
        self.rows += len(rows)
        return "".join(lines).encode()

    def period_rows(self) -> list[PeriodPeak[R]]:
        """The period file's rows of the rows written so far, in the API's order."""
        return _period_rows(self._spec, self._fold)


def period_rows_of(rows: RowSpec[R], days: Iterable[DayRows]) -> list[PeriodPeak[R]]:
    """The period rows of kind ``rows`` of ``days`` (stored rows by day), in the API's order."""
    fold: PeakFold[StoredRow, str] = PeakFold(key_of=rows.key_of, value_of=rows.value_of)
    for day, day_rows in days:
        fold.add_day(day, day_rows)
    return _period_rows(rows, fold)


def _period_rows(rows: RowSpec[R], fold: PeakFold[StoredRow, str]) -> list[PeriodPeak[R]]:
    return rows.sorted_peaks(
        PeriodPeak(
            rows.with_value(decoded(rows, peak.latest), peak.peak),
            date.fromisoformat(peak.peak_day),
        )
        for peak in fold.peaks()
    )
