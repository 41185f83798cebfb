"""CSV lines as every CSV output writes them (SPEC 3, 5): RFC 4180 with the formula guard.

The format, decided once for the snapshot's files and the API's ``format=csv`` alike:

- UTF-8 without a byte-order mark; RFC 4180: comma separated, CRLF after every line
  (the header's and the last's too), a field quoted only when it holds ``,``, ``"``,
  CR or LF, and a ``"`` inside it doubled.
- Formula guard: a text cell beginning with ``=``, ``+``, ``-``, ``@``, tab or carriage
  return gets a leading ``'``, so spreadsheets show it instead of running it. Numbers
  and dates are not text cells and are never prefixed. The cell is judged as a
  spreadsheet would see it: invisible characters in front (controls such as NUL,
  format characters such as a zero-width space or a byte-order mark, line
  separators) are skipped, and the first visible character counts by its NFKC
  normal form, so ``\x00=1+1``, ``\u200b=1+1`` and the fullwidth equals, plus,
  minus and at signs (U+FF1D, U+FF0B, U+FF0D, U+FF20) are guarded too. The cell
  itself is written as it is, after the ``'``: only cells that need the guard change.
- Integers as integers, decimals (``Decimal``) as plain decimal text, dates ``YYYY-MM-DD``.

Pure: cells in, bytes out.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Final

LINE_END: Final = "\r\n"
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRSTS: Final = frozenset(FORMULA_STARTS)
# Controls (Cc), format characters (Cf) and line or paragraph separators: not shown.
_INVISIBLE: Final = frozenset({"Cc", "Cf", "Zl", "Zp"})
_NEEDS_QUOTES: Final = frozenset(',"\r\n')

Cell = str | int | date | Decimal
"""A cell: every ``str`` is a text cell (guarded); ints, decimals (a negative headroom
``-1.5`` is a number, not a formula) and dates are not text."""


def text_field(value: str) -> str:
    """A text cell as written: formula guard, then RFC 4180 quoting when needed."""
    first = value[:1]
    # Nearly every cell starts with printable ASCII other than a formula start: no call.
    if (first in _FORMULA_FIRSTS or not " " <= first <= "~") and runs_as_formula(value):
        value = "'" + value
    return _quoted(value)


def runs_as_formula(value: str) -> bool:
    """Whether a spreadsheet could run the text cell ``value`` as a formula; pure.

    True when its first character that is not invisible (a control other than tab and
    carriage return, a format character, a line separator) is one of
    ``FORMULA_STARTS``, or becomes one under NFKC (fullwidth or small forms: U+FF1D...).
    """
    first = value[:1]
    if first in _FORMULA_FIRSTS:
        return True
    if " " <= first <= "~" or not first:
        return False  # printable ASCII: NFKC leaves it as it is (nearly every cell)
    for character in value:
        if character in _FORMULA_FIRSTS:
            return True
        if unicodedata.category(character) not in _INVISIBLE:
            return unicodedata.normalize("NFKC", character).startswith(FORMULA_STARTS)
    return False


def cell_field(cell: Cell) -> str:
    """A cell as written: a text cell guarded and quoted, a date ``YYYY-MM-DD``, an int as is."""
    if isinstance(cell, str):
        return text_field(cell)
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, Decimal):
        return format(cell, "f")
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
