"""The row specification: one column table per kind of usage row, and every shape derived from it.

A usage row (``usage_rows``: a product, a bundled product, a service) is written in
many places: the ``measure`` document, the API's JSON and CSV, the snapshot's period
and daily files, the database tables and the SQL that reads them. ``RowSpec`` holds a
row type and its one column table and derives each of those shapes, so a new field is
declared once (``usage_rows``), then given a migration and tests.

A ``Column`` names the row's attribute, the API field (also the CSV header), the
database column and its ``Encoding``: how a value is written in JSON, in a CSV cell and
in the database, and read back. The stored columns are exactly the row type's fields,
in order (the API's order); a derived column (``metricConvertedQuantity``) is computed
from the row; ``PEAK_DATE`` says where ``metricPeakDate`` sits among the API fields of
a period row. A period peak is a row plus a date (``PeriodPeak``); a daily row is
stored with its day.

A row's "stored form" is the tuple of its stored values in field order (a ratio as its
``a:b`` text), as the store's fast paths hand rows over; ``key_of`` and ``value_of``
read both forms alike. Pure: no I/O.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from operator import attrgetter, itemgetter
from typing import Any, Final, Generic, Literal, TypeVar, cast

from license_service.errors import LicenseServiceError
from license_service.formats.csv_lines import Cell
from license_service.formats.decimal_numbers import decimal_text, json_number
from license_service.formats.unsafe_characters import first_unsafe_character
from license_service.metering.ratios import Ratio, parse_ratio

R = TypeVar("R", bound=tuple[Any, ...])

JsonValue = str | int | float
"""A value of a JSON row: text, an integer or (a fractional quantity) a float."""

_Convert = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Encoding:
    """How values of one kind are written in JSON, in a CSV cell and in the database.

    ``None`` means "as is". ``stored_as`` is the database type (``None``: never stored);
    ``sorts_as_stored`` is false when the stored text does not sort as the value does.
    """

    name: str
    stored_as: Literal["text", "integer"] | None
    json: Callable[[Any], JsonValue] | None = None
    csv: Callable[[Any], Cell] | None = None
    to_stored: _Convert | None = None
    from_stored: _Convert | None = None
    sorts_as_stored: bool = True


@functools.lru_cache(maxsize=256)
def stored_ratio(text: str) -> Ratio:
    """The ratio written ``a:b`` (by ``str(Ratio)``), read back; a text is parsed once."""
    return parse_ratio(text)


TEXT: Final = Encoding("text", "text")
INTEGER: Final = Encoding("integer", "integer")
RATIO: Final = Encoding(
    "ratio",
    "text",
    json=str,
    csv=str,
    to_stored=str,
    from_stored=stored_ratio,
    # "10:1" < "2:1" as text, but 2:1 < 10:1 as ratios.
    sorts_as_stored=False,
)
EXACT_NUMBER: Final = Encoding("exact number", None, json=json_number, csv=decimal_text)
"""A ``Fraction``: in JSON an int when whole else a float; in CSV exact decimal text."""
DATE: Final = Encoding("date", None, json=date.isoformat)


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a usage row: attribute, API field name (the CSV header), database column.

    ``database`` defaults to the attribute's name. A ``derived`` column is a property of
    the row computed from the stored attributes it ``reads``; it has no database column.
    ``in_daily_file``: whether the snapshot's daily file prints it (SPEC 5).
    """

    attribute: str
    api_name: str
    encoding: Encoding
    database: str = ""
    derived: bool = False
    reads: tuple[str, ...] = ()
    in_daily_file: bool = True

    @property
    def database_column(self) -> str:
        """The column's name in the database tables."""
        return self.database or self.attribute


PEAK_DATE: Final = Column("peak_date", "metricPeakDate", DATE, derived=True, in_daily_file=False)
"""Where ``metricPeakDate`` sits among a period row's API fields (a ``PeriodPeak``'s date)."""


@dataclass(frozen=True, slots=True)
class PeriodPeak(Generic[R]):
    """A period's row: the latest names, the highest daily value, and ``peak_date``.

    ``peak_date`` is the earliest day reaching the value (SPEC 2.7). Sort with
    ``RowSpec.period_order``: the API's order puts the date among the row's fields.
    """

    row: R
    peak_date: date


class RowSpec(Generic[R]):
    """A kind of usage row: its frozen type, its key and its one column table.

    Derived once, at construction: the API names (JSON keys and CSV headers, with and
    without the period's date), the daily file's columns, the database key, names and
    value columns, and the functions that write a row in each shape and read it back.
    """

    def __init__(
        self, row_type: type[R], *, columns: Sequence[Column], key: Sequence[str], value: str
    ) -> None:
        """Check the table against ``row_type`` and derive every shape; ``ValueError`` if wrong."""
        self.row_type: Final = row_type
        self.columns: Final = tuple(columns)
        self.key: Final = tuple(key)
        self.value: Final = value
        fields: tuple[str, ...] = getattr(row_type, "_fields", ())
        self.stored: Final = tuple(c for c in self.columns if not c.derived)
        _check(row_type.__name__, fields, columns=self.columns, key=self.key, value=value)
        self.names: Final = tuple(f for f in fields if f not in self.key and f != value)
        by_attribute = {column.attribute: column for column in self.stored}
        self._by_attribute = by_attribute
        self.database_key: Final = tuple(by_attribute[a].database_column for a in self.key)
        self.database_names: Final = tuple(by_attribute[a].database_column for a in self.names)
        self.database_value: Final = by_attribute[value].database_column
        self.database_columns: Final = (
            *self.database_key,
            *self.database_names,
            self.database_value,
        )
        """Key, names, value: the order of the tables' usage columns and of ``to_stored``."""
        self.database_fields: Final = tuple(column.database_column for column in self.stored)
        """The stored columns in field order: what queries select, ``from_stored`` reads."""
        self.period_api_names: Final = tuple(column.api_name for column in self.columns)
        self.daily_columns: Final = tuple(
            c for c in self.columns if c.in_daily_file and c is not PEAK_DATE
        )
        self._position = {attribute: index for index, attribute in enumerate(fields)}
        # NamedTuple._make: a row from its values in field order, checking their number.
        self._make: Callable[[Iterable[Any]], R] = cast(Any, row_type)._make
        self.key_of: Callable[[Sequence[Any]], Hashable] = self.getter(self.key)
        """The row's key, from a row or its stored form."""
        self.value_position: Final = self._position[value]
        """Where the value sits in a row and in its stored form."""
        self.value_of: Callable[[Sequence[Any]], int] = itemgetter(self.value_position)
        """The row's value (quantity), from a row or its stored form."""
        self._date_at = sum(
            1 for c in self.columns[: self.columns.index(PEAK_DATE)] if not c.derived
        )
        self._decoders = _converters(enumerate(self.stored), "from_stored")
        self._to_stored = itemgetter(*(self._position[a] for a in (*self.key, *self.names, value)))
        self._encoders = _converters(
            enumerate(by_attribute[a] for a in (*self.key, *self.names, value)), "to_stored"
        )
        self._json = tuple((c.api_name, self._source(c), c.encoding.json) for c in self.columns)
        self._cells = tuple((self._source(c), c.encoding.csv) for c in self.columns)

    def getter(self, attributes: Sequence[str]) -> Callable[[Sequence[Any]], Any]:
        """A function reading ``attributes`` (stored ones) of a row or of its stored form: a
        tuple of their values, or the value alone for one attribute (hashable either way)."""
        if not attributes:
            return lambda _: ()
        getter: Callable[[Sequence[Any]], Any] = itemgetter(
            *(self._position[attribute] for attribute in attributes)
        )
        return getter

    def reads(self, columns: Iterable[Column]) -> tuple[str, ...]:
        """The stored attributes that ``columns`` are written from, in field order."""
        wanted = {a for c in columns for a in (c.reads if c.derived else (c.attribute,))}
        return tuple(column.attribute for column in self.stored if column.attribute in wanted)

    def from_stored(self, values: Sequence[Any]) -> R:
        """The row whose stored form (values in field order, as the database holds them) is
        ``values``; a decoder's error (a stored ratio that is not one) propagates."""
        if self._decoders:
            values = list(values)
            for position, decode in self._decoders:
                values[position] = decode(values[position])
        return self._make(values)

    def make(self, values: Iterable[Any]) -> R:
        """The row whose values, in field order, are ``values`` (already decoded)."""
        return self._make(values)

    def to_stored(self, row: R) -> tuple[Any, ...]:
        """``row``'s values as the database holds them, in ``database_columns`` order."""
        values: tuple[Any, ...] = self._to_stored(row)
        if not self._encoders:
            return values
        written = list(values)
        for position, encode in self._encoders:
            written[position] = encode(written[position])
        return tuple(written)

    def with_value(self, row: R, value: int) -> R:
        """``row`` with ``value`` in place of its own (its names and key unchanged)."""
        position = self._position[self.value]
        return self._make((*row[:position], value, *row[position + 1 :]))

    def json(self, row: R) -> dict[str, JsonValue]:
        """``row`` as a JSON object (the ``measure`` document's rows): API names, API order."""
        return {
            name: value if encode is None else encode(value)
            for name, source, encode in self._json
            if source is not None
            for value in (source(row),)
        }

    def from_json(self, document: Mapping[str, Any]) -> R:
        """The row that ``json`` wrote as ``document`` (API names; ``metricPeakDate`` not
        allowed), read by the column table; ``ValueError`` naming the field and the fix.

        A derived field (``metricConvertedQuantity``) may be left out; when given it must
        equal what the row's stored fields make, so a row never says two things.
        """
        if not isinstance(document, Mapping):
            raise ValueError("a row must be a JSON object of the fields of /products etc.")
        values = [_from_json(column, document) for column in self.stored]
        row = self._make(values)
        if self.value_of(row) < 0:
            name = self._by_attribute[self.value].api_name
            raise ValueError(f"{name} is negative: a usage value is 0 or more")
        for column in self.columns:
            given = document.get(column.api_name)
            if column is PEAK_DATE or not column.derived or given is None:
                continue
            source = self._source(column)
            encode = column.encoding.json
            made = cast(Any, source)(row)
            if given != (made if encode is None else encode(made)):
                # What was sent is not echoed (it may be anything); what the row makes is.
                raise ValueError(
                    f"{column.api_name} is not what the row's other fields make "
                    f"({made if encode is None else encode(made)!r}): send the value the row "
                    "gives, or leave the field out"
                )
        known = {column.api_name for column in self.columns if column is not PEAK_DATE}
        unknown = sorted(set(document) - known)
        if unknown:
            raise ValueError(
                f"unknown field {unknown[0][:40]!r}: a row has the fields {sorted(known)}"
            )
        return row

    def period_json(self, peak: PeriodPeak[R]) -> dict[str, JsonValue]:
        """``peak`` as a row of its endpoint (SPEC 3.2, 3.3, 3.6), ``metricPeakDate`` included."""
        row, day = peak.row, cast(Any, peak.peak_date)
        return {
            name: value if encode is None else encode(value)
            for name, source, encode in self._json
            for value in (day if source is None else source(row),)
        }

    def period_cells(self, peak: PeriodPeak[R]) -> tuple[Cell, ...]:
        """The CSV cells of ``peak``, in ``period_api_names`` order."""
        row, day = peak.row, peak.peak_date
        return tuple(
            value if encode is None else encode(value)
            for source, encode in self._cells
            for value in (day if source is None else source(row),)
        )

    def cells(self, row: R, columns: Iterable[Column]) -> tuple[Cell, ...]:
        """The CSV cells of ``columns`` (of this table, without ``PEAK_DATE``) of ``row``."""
        written: list[Cell] = []
        for column in columns:
            source = self._source(column)
            if source is None:
                raise ValueError(f"{column.api_name} is not a column of a row alone")
            value = source(row)
            encode = column.encoding.csv
            written.append(value if encode is None else encode(value))
        return tuple(written)

    def period_order(self, peak: PeriodPeak[R]) -> tuple[Any, ...]:
        """The sort key of ``peak`` in the API's order: its columns in order, the date included."""
        row, at = peak.row, self._date_at
        return (*row[:at], peak.peak_date, *row[at:])

    def sorted_peaks(self, peaks: Iterable[PeriodPeak[R]]) -> list[PeriodPeak[R]]:
        """``peaks`` in the API's order."""
        return sorted(peaks, key=self.period_order)

    def _source(self, column: Column) -> Callable[[R], Any] | None:
        """How to read ``column`` from a row; ``None`` for ``PEAK_DATE`` (not in the row)."""
        if column is PEAK_DATE:
            return None
        if column.derived:
            read: Callable[[R], Any] = attrgetter(column.attribute)
            return read
        return itemgetter(self._position[column.attribute])


MAX_STORED_INTEGER: Final = 2**63 - 1
"""The largest whole number a database column of a usage row holds (a BIGINT)."""


def _from_json(column: Column, document: Mapping[str, Any]) -> Any:
    """The value of stored ``column`` in a JSON row, checked by its encoding's database type."""
    name = column.api_name
    if name not in document:
        raise ValueError(f"the field {name} is missing: every row carries it")
    given = document[name]
    if column.encoding.stored_as == "integer":
        if isinstance(given, bool) or not isinstance(given, int):
            raise ValueError(f"{name} must be a whole number (a JSON integer), e.g. 8")
        if not -MAX_STORED_INTEGER <= given <= MAX_STORED_INTEGER:
            raise ValueError(f"{name} is larger than a stored number can be (2^63 - 1)")
        return given
    if not isinstance(given, str):
        raise ValueError(f"{name} must be a JSON string")
    # A NUL or a control no store can hold (PostgreSQL refuses a NUL): named, not stored.
    found = first_unsafe_character(given)
    if found is not None:
        raise ValueError(f"{name} holds {found.describe()}, which no stored text can hold")
    decode = column.encoding.from_stored
    if decode is None:
        return given
    try:
        return decode(given)
    except LicenseServiceError as exc:
        raise ValueError(f"{name}: {exc}") from exc


def _converters(
    columns: Iterable[tuple[int, Column]], way: str
) -> tuple[tuple[int, _Convert], ...]:
    """(position, converter) of each column whose encoding converts values ``way``."""
    found = ((position, getattr(column.encoding, way)) for position, column in columns)
    return tuple((position, convert) for position, convert in found if convert is not None)


def _check(
    name: str,
    fields: tuple[str, ...],
    *,
    columns: tuple[Column, ...],
    key: tuple[str, ...],
    value: str,
) -> None:
    """Refuse a column table that does not describe ``fields`` (the row type's) exactly."""
    stored = [column for column in columns if not column.derived]
    problems = []
    if not fields:
        problems.append("the row type is not a NamedTuple")
    if tuple(column.attribute for column in stored) != fields:
        problems.append(
            f"stored columns {[c.attribute for c in stored]} are not the fields {list(fields)}"
        )
    if columns.count(PEAK_DATE) != 1:
        problems.append("the table must place PEAK_DATE once")
    for column in stored:
        if column.encoding.stored_as is None:
            problems.append(f"{column.attribute}: a {column.encoding.name} cannot be stored")
    for column in columns:
        if column.derived and column is not PEAK_DATE and not set(column.reads) <= set(fields):
            problems.append(f"{column.attribute} reads {column.reads}, not all of them fields")
    if not key or not set(key) <= set(fields) or len(set(key)) != len(key):
        problems.append(f"key {key} must name distinct fields")
    if value not in fields or value in key:
        problems.append(f"value {value!r} must be a field outside the key")
    if problems:
        raise ValueError(f"row specification of {name}: " + "; ".join(problems))


def with_leading_key(rows: RowSpec[Any], column: Column, type_name: str) -> RowSpec[Any]:
    """A kind of row derived from ``rows``: ``column`` first, as the first key column.

    The row type is made from ``rows``' own (its fields after ``column``'s attribute, its
    properties such as ``converted_quantity`` kept), so a field added to ``rows`` reaches
    the derived rows too. A derived row is ``(value of column, *row of rows)``.
    """
    fields: tuple[str, ...] = getattr(rows.row_type, "_fields", ())
    base = collections.namedtuple(f"_{type_name}Fields", (column.attribute, *fields))  # type: ignore[misc]
    properties = {
        name: value
        for kind in reversed(rows.row_type.__mro__)
        for name, value in vars(kind).items()
        if isinstance(value, property)
    }
    doc = f"A row of {rows.row_type.__name__} with {column.api_name} first (the key's first part)."
    row_type = type(type_name, (base,), {"__slots__": (), "__doc__": doc, **properties})
    return RowSpec(
        cast(type[tuple[Any, ...]], row_type),
        columns=(column, *rows.columns),
        key=(column.attribute, *rows.key),
        value=rows.value,
    )
