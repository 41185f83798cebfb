"""CSV lines as every CSV output writes them (SPEC 3, 5): RFC 4180 with the formula guard.

The format, decided once for the snapshot's files and the API's ``format=csv`` alike:

- UTF-8 without a byte-order mark; RFC 4180: comma separated, CRLF after every line
  (the header's and the last's too), a field quoted only when it holds ``,``, ``"``,
  CR or LF, and a ``"`` inside it doubled.
- Formula guard: a text cell beginning with ``=``, ``+``, ``-``, ``@``, tab or carriage
  return gets a leading ``'``, so spreadsheets show it instead of running it. Numbers
  and dates are not text cells and are never prefixed.
- Integers as integers, dates ``YYYY-MM-DD``.

Pure: cells in, bytes out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Final

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


def cell_field(cell: Cell) -> str:
    """A cell as written: a text cell guarded and quoted, a date ``YYYY-MM-DD``, an int as is."""
    if isinstance(cell, str):
        return text_field(cell)
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell)


def csv_line(cells: Sequence[Cell]) -> bytes:
    """One CSV line, CRLF-terminated, UTF-8."""
    return (",".join(map(cell_field, cells)) + LINE_END).encode("utf-8")


def header_line(columns: Sequence[str]) -> bytes:
    """The header line of a file with ``columns``."""
    return csv_line(columns)


def _quoted(field: str) -> str:
    if _NEEDS_QUOTES.isdisjoint(field):
        return field
    return '"' + field.replace('"', '""') + '"'
