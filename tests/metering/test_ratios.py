"""productCloudpakRatio: exact conversion of bundled products (SPEC 2.6)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from license_service.errors import InvalidRatioError
from license_service.metering.ratios import ONE_TO_ONE, parse_ratio


@pytest.mark.parametrize(
    ("raw", "measured", "converted", "text"),
    [
        pytest.param(None, 3, Fraction(3), "1:1", id="absent-is-1-to-1"),
        pytest.param("", 3, Fraction(3), "1:1", id="empty-is-1-to-1"),
        pytest.param("2:1", 3, Fraction(3, 2), "2:1", id="two-to-one-gives-1.5"),
        pytest.param("1:4", 3, Fraction(12), "1:4", id="one-to-four"),
        pytest.param(" 3 : 2 ", 3, Fraction(2), "3:2", id="blanks-ignored"),
        pytest.param("1.5:1", 3, Fraction(2), "1.5:1", id="decimal-side"),
        pytest.param("10:1", 1, Fraction(1, 10), "10:1", id="stays-exact"),
    ],
)
def test_ratio_converts_measured_times_b_over_a(
    raw: str | None, measured: int, converted: Fraction, text: str
) -> None:
    ratio = parse_ratio(raw)
    assert ratio.convert(measured) == converted
    assert str(ratio) == text


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("2", "two positive numbers"),
        ("2:1:1", "two positive numbers"),
        ("a:1", "product side 'a'"),
        ("1:", "Cloud Pak side ''"),
        ("0:1", "zero"),
        ("1:-1", "Cloud Pak side '-1'"),
        ("1e3:1", "product side '1e3'"),
    ],
)
def test_malformed_ratio_is_refused_saying_what_is_wrong(raw: str, fragment: str) -> None:
    with pytest.raises(InvalidRatioError) as raised:
        parse_ratio(raw)
    assert fragment in str(raised.value)


def test_absent_ratio_is_the_one_to_one_constant() -> None:
    assert parse_ratio(None) is ONE_TO_ONE
