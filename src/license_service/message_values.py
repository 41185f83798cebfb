"""Values quoted in messages, cut to a bounded length whatever their size.

A message that quotes what it refused (``spec.logLevel: 'x' is not allowed``) must
stay short even when the value is a 100 MB string or a list that YAML aliases make
billions of elements long: ``repr()`` of such a value would take minutes and all the
memory. ``quoted`` shows at most ``MAX_QUOTED`` characters, drawn from the first few
elements and levels of the value (``reprlib``, which never walks the whole of it).
Pure.
"""

from __future__ import annotations

import reprlib
from collections.abc import Sequence
from typing import Final

MAX_QUOTED: Final = 120
"""The longest text ``quoted`` returns (plus the length note of a long string)."""


class _BoundedRepr(reprlib.Repr):
    """``reprlib.Repr`` with small limits, and whole numbers too long to write as digits."""

    def __init__(self) -> None:
        # Attributes, not keyword arguments: those arrived in Python 3.12.
        super().__init__()
        self.maxlevel = 3
        self.maxtuple = self.maxlist = self.maxarray = 4
        self.maxdict = self.maxset = self.maxfrozenset = self.maxdeque = 4
        self.maxstring = self.maxother = MAX_QUOTED
        self.maxlong = 40

    def repr_int(self, x: int, level: int) -> str:
        """The number, or how long it is when Python refuses to write it (over 4,300 digits)."""
        if x.bit_length() > _LONGEST_WRITTEN_BITS:
            return f"<a whole number of {x.bit_length():,} bits>"
        return super().repr_int(x, level)


# A bound well inside Python's 4,300-digit limit on int -> str (sys.int_info).
_LONGEST_WRITTEN_BITS: Final = 4_000 * 3


_REPR: Final = _BoundedRepr()


def quoted(value: object) -> str:
    """``repr(value)`` when short; else its beginning, ``...`` and, for text, its length."""
    if isinstance(value, str) and len(value) > MAX_QUOTED:
        return f"{value[:MAX_QUOTED]!r}... ({len(value):,} characters)"
    shown = _REPR.repr(value)
    if len(shown) > MAX_QUOTED:
        return shown[:MAX_QUOTED] + "..."
    return shown


def listed(names: Sequence[str], *, most: int = 20) -> str:
    """``names`` joined with commas: at most ``most`` of them, each cut to ``MAX_QUOTED``."""
    shown = [
        name if len(name) <= MAX_QUOTED else f"{name[:MAX_QUOTED]}..." for name in names[:most]
    ]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" and {more:,} more" if more > 0 else "")
