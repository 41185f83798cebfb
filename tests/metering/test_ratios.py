"""productCloudpakRatio: exact conversion of bundled products (SPEC 2.6)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from license_service.errors import InvalidRatioError
from license_service.metering.ratios import ONE_TO_ONE, Ratio, parse_ratio, rounded_up_total


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


_SIDES = st.decimals(min_value="0.001", max_value="1000", places=3).map(Fraction)


@given(
    st.lists(
        st.tuples(st.builds(Ratio, _SIDES, _SIDES), st.integers(min_value=0, max_value=10**6)),
        max_size=6,
    )
)
def test_rounded_up_total_is_the_exact_sum_of_conversions_rounded_up_once(
    parts: list[tuple[Ratio, int]],
) -> None:
    exact = sum((ratio.convert(measured) for ratio, measured in parts), Fraction(0))
    assert rounded_up_total(parts) == math.ceil(exact)


def test_rounded_up_total_rounds_the_sum_not_each_part() -> None:
    # 1 unit at 2:1 and 1 unit at 2:1 again by another text: 0.5 + 0.5 is 1, not 2.
    half = parse_ratio("2:1")
    assert rounded_up_total([(half, 1), (parse_ratio("4:2"), 1)]) == 1
    assert rounded_up_total([(parse_ratio("3:1"), 1)]) == 1
    assert rounded_up_total([]) == 0
