"""Sharing a whole number in proportion, by largest remainders."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from license_service.metering.largest_remainders import largest_remainder_shares


def test_the_largest_remainders_get_the_units_left_over() -> None:
    # exact shares 10 * (1, 2, 4) / 7 = 1.43, 2.86, 5.71: 1, 2, 5 then +1 to 2.86 and 5.71.
    assert largest_remainder_shares(10, [1, 2, 4]) == [1, 3, 6]


def test_equal_remainders_go_to_the_earlier_weight() -> None:
    assert largest_remainder_shares(2, [1, 1, 1]) == [1, 1, 0]


def test_nothing_to_share_among_zero_weights() -> None:
    assert largest_remainder_shares(0, [0, 0]) == [0, 0]
    with pytest.raises(ValueError, match="add up to 0"):
        largest_remainder_shares(5, [0, 0])


@given(
    st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=20),
    st.integers(min_value=0, max_value=10**7),
)
def test_shares_add_up_and_stay_within_their_weights(weights: list[int], total: int) -> None:
    total = min(total, sum(weights))

    shares = largest_remainder_shares(total, weights)

    assert sum(shares) == total
    assert all(0 <= share <= weight for share, weight in zip(shares, weights, strict=True))
