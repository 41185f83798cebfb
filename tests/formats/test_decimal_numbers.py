"""Converted quantities are plain decimals: exact when they end, else rounded up to 6 decimals."""

from __future__ import annotations

from fractions import Fraction

import pytest

from license_service.formats.decimal_numbers import decimal_text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param(Fraction(0), "0", id="zero"),
        pytest.param(Fraction(2), "2", id="whole-is-an-integer"),
        pytest.param(Fraction(6, 3), "2", id="whole-after-reduction"),
        pytest.param(Fraction(3, 2), "1.5", id="half"),
        pytest.param(Fraction(1, 8), "0.125", id="eighth-exact"),
        pytest.param(Fraction(1, 10), "0.1", id="tenth-no-trailing-zero"),
        pytest.param(Fraction(1, 1_048_576), "0.00000095367431640625", id="long-but-ending"),
        pytest.param(Fraction(1, 3), "0.333334", id="third-rounded-up"),
        pytest.param(Fraction(2, 3), "0.666667", id="two-thirds"),
        pytest.param(Fraction(7, 6), "1.166667", id="seven-sixths"),
        pytest.param(Fraction(1, 7), "0.142858", id="seventh"),
        pytest.param(Fraction(1_000_000, 3), "333333.333334", id="large"),
        pytest.param(Fraction(3, 1_000_001), "0.000003", id="tiny-still-rounded-up"),
        pytest.param(Fraction(1, 3_000_000), "0.000001", id="below-a-millionth-rounds-up"),
        pytest.param(Fraction(2, 2_999_999), "0.000001", id="just-above-zero-rounds-up"),
    ],
)
def test_a_quantity_is_written_as_plain_decimal_text(value: Fraction, text: str) -> None:
    assert decimal_text(value) == text


def test_a_rounded_value_always_has_exactly_six_decimals() -> None:
    assert decimal_text(Fraction(20_000_001, 3_000_000)) == "6.666667"
    assert decimal_text(Fraction(2, 3) + 9) == "9.666667"
    assert decimal_text(Fraction(1, 1_500_000)) == "0.000001"
    # 0.2 - 1/3,000,000 is not a terminating decimal and rounds up to 0.200000.
    assert decimal_text(Fraction(1, 5) - Fraction(1, 3_000_000)) == "0.200000"
