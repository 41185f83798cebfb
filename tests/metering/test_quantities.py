"""CPU quantities become exact integer millicores (SPEC 2.4)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from license_service.errors import InvalidQuantityError
from license_service.metering.quantities import parse_cpu_millicores
from tests.metering.cluster_builders import format_millicores


@pytest.mark.parametrize(
    ("raw", "millicores"),
    [
        pytest.param("2", 2000, id="whole-cores"),
        pytest.param("500m", 500, id="millicores"),
        pytest.param("1.5", 1500, id="decimal-cores"),
        pytest.param("0.25", 250, id="quarter-core"),
        pytest.param("1e3m", 1000, id="exponent-then-milli"),
        pytest.param("2k", 2_000_000, id="kilo-cores"),
        pytest.param("1e3", 1_000_000, id="exponent"),
        pytest.param("1Ki", 1_024_000, id="binary-suffix"),
        pytest.param("100u", 1, id="micro-rounds-up"),
        pytest.param("0.0001", 1, id="fraction-of-millicore-rounds-up"),
        pytest.param("0.0011", 2, id="rounds-up-not-to-nearest"),
        pytest.param("0", 0, id="zero"),
        pytest.param(".5", 500, id="leading-dot"),
        pytest.param("3.", 3000, id="trailing-dot"),
        pytest.param("+1", 1000, id="explicit-plus"),
        pytest.param(" 2 ", 2000, id="surrounding-blanks"),
        pytest.param("0.1", 100, id="no-binary-float-error"),
        pytest.param("1234567890123456789", 1234567890123456789000, id="huge-exact"),
    ],
)
def test_quantity_is_parsed_exactly_to_millicores(raw: str, millicores: int) -> None:
    assert parse_cpu_millicores(raw) == millicores


@pytest.mark.parametrize(
    "raw", ["", "two", "1.5.2", "2 cores", "-1", "-500m", "1e", "1e99", "m", "1x", "1KI", "0x10"]
)
def test_invalid_quantity_is_refused_with_the_value_named(raw: str) -> None:
    with pytest.raises(InvalidQuantityError, match="CPU quantity"):
        parse_cpu_millicores(raw)


def test_negative_quantity_message_says_it_is_negative() -> None:
    with pytest.raises(InvalidQuantityError, match="negative"):
        parse_cpu_millicores("-2")


@given(st.integers(min_value=0, max_value=10**15))
def test_millicores_round_trip_through_their_kubernetes_spelling(millicores: int) -> None:
    assert parse_cpu_millicores(format_millicores(millicores)) == millicores


@given(
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=0, max_value=999),
)
def test_decimal_cores_equal_the_same_amount_in_millicores(cores: int, thousandths: int) -> None:
    decimal = f"{cores}.{thousandths:03d}"
    assert parse_cpu_millicores(decimal) == parse_cpu_millicores(f"{cores * 1000 + thousandths}m")
