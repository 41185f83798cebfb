"""Exact quantities written out the same way every time: decimal text (SPEC 5), JSON numbers.

``metricConvertedQuantity`` is an exact fraction (``measured * b / a``). In CSV
(``decimal_text``) it is written:

- as an integer when whole: ``2``;
- as its exact decimal when that terminates (the denominator has no prime factor but
  2 and 5): ``1.5``, ``0.125``;
- otherwise rounded UP to ``ROUNDED_DECIMALS`` (6) decimals, all of them written:
  1/3 is ``0.333334``, 2/3 ``0.666667``. Rounding up never reports less than was used,
  as everywhere else in licensing, and exactly six decimals mark the value as rounded.

No exponent, no ``-0``, no binary floating point. In JSON (``json_number``) it is an
int when whole (``2``), else the nearest float (``1.5``), as SPEC 3.3 shows it. Pure.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Final

ROUNDED_DECIMALS: Final = 6


def decimal_text(value: Fraction) -> str:
    """``value`` as plain decimal text: exact when it terminates, else rounded up to 6 decimals."""
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    decimals = _terminating_decimals(magnitude.denominator)
    if decimals is None:
        # Rounding up the signed value: towards zero for a negative one.
        scaled = math.ceil(value * 10**ROUNDED_DECIMALS)
        sign = "-" if scaled < 0 else ""
        return sign + _fixed(abs(scaled), ROUNDED_DECIMALS)
    if decimals == 0:
        return sign + str(magnitude.numerator)
    scaled = magnitude * 10**decimals
    return sign + _fixed(scaled.numerator, decimals)


def json_number(value: Fraction) -> int | float:
    """An exact quantity as a JSON number: an int when whole (``2``), else a float (``1.5``)."""
    if value.denominator == 1:
        return value.numerator
    return float(value)


def _terminating_decimals(denominator: int) -> int | None:
    """How many decimals 1/denominator needs, or ``None`` when its expansion never ends."""
    twos = fives = 0
    while denominator % 2 == 0:
        denominator //= 2
        twos += 1
    while denominator % 5 == 0:
        denominator //= 5
        fives += 1
    return max(twos, fives) if denominator == 1 else None


def _fixed(scaled: int, decimals: int) -> str:
    """The non-negative ``scaled / 10**decimals`` with exactly ``decimals`` decimals."""
    whole, fraction = divmod(scaled, 10**decimals)
    return f"{whole}.{fraction:0{decimals}d}"
