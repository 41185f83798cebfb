"""The Cloud Pak conversion ratio ``productCloudpakRatio`` (SPEC 2.6), kept exact."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Context, Decimal
from fractions import Fraction
from typing import Final

from license_service.errors import InvalidRatioError

_POSITIVE_NUMBER: Final = re.compile(r"\d+(?:\.\d+)?|\.\d+", re.ASCII)
MAX_SIDE_LENGTH: Final = 32
# Enough digits to write any side of at most MAX_SIDE_LENGTH characters exactly.
_EXACT: Final = Context(prec=2 * MAX_SIDE_LENGTH)


@dataclass(frozen=True, slots=True, order=True)
class Ratio:
    """The ratio ``a:b``: ``m`` product units count as ``m * b / a`` Cloud Pak units."""

    product_units: Fraction
    cloudpak_units: Fraction

    def convert(self, measured: int | Fraction) -> Fraction:
        """Return ``measured`` product units in Cloud Pak units, exactly."""
        return Fraction(measured) * self.cloudpak_units / self.product_units

    def __str__(self) -> str:
        return f"{_number_text(self.product_units)}:{_number_text(self.cloudpak_units)}"


ONE_TO_ONE: Final = Ratio(Fraction(1), Fraction(1))


def rounded_up_total(parts: Iterable[tuple[Ratio, int]]) -> int:
    """Convert each measured quantity by its ratio, sum them and round up once; exact.

    Integer arithmetic (``measured * b / a`` over a common denominator): a measurement
    with chargeback groups sums a Cloud Pak's rows in every group, and Fractions cost
    more than the rest of such a row.
    """
    numerator, denominator = 0, 1
    for ratio, measured in parts:
        a, b = ratio.product_units, ratio.cloudpak_units
        part_numerator = measured * b.numerator * a.denominator
        part_denominator = b.denominator * a.numerator
        numerator = numerator * part_denominator + part_numerator * denominator
        denominator *= part_denominator
    return -(-numerator // denominator)


def parse_ratio(raw: str | None) -> Ratio:
    """Parse ``"<a>:<b>"`` of two positive numbers; absent or empty means ``1:1``."""
    if raw is None or raw.strip() == "":
        return ONE_TO_ONE
    parts = raw.split(":")
    if len(parts) != 2:
        raise InvalidRatioError(
            f"ratio {raw!r} must be two positive numbers separated by one ':', e.g. '2:1'"
        )
    values = []
    for side, part in zip(("product", "Cloud Pak"), parts, strict=True):
        text = part.strip()
        if len(text) > MAX_SIDE_LENGTH:
            raise InvalidRatioError(
                f"ratio of {len(raw)} characters: the {side} side has {len(text)} characters, "
                f"more than the {MAX_SIDE_LENGTH} allowed; write e.g. '2:1' or '1:1.5'"
            )
        if not _POSITIVE_NUMBER.fullmatch(text):
            raise InvalidRatioError(
                f"ratio {raw!r}: the {side} side {text!r} is not a positive number; "
                "write e.g. '2:1' or '1:1.5'"
            )
        value = Fraction(text)
        if value == 0:
            raise InvalidRatioError(
                f"ratio {raw!r}: the {side} side is zero; both sides must be positive"
            )
        values.append(value)
    return Ratio(values[0], values[1])


def _number_text(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    # Values come from decimal text, so the decimal form is exact and finite.
    text = format(_EXACT.divide(Decimal(value.numerator), Decimal(value.denominator)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
