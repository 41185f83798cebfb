"""Sampling instants are aligned to the interval, so every run and the backfill line up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from license_service.errors import ConfigurationError
from license_service.sampling.schedule import (
    boundaries,
    count_boundaries,
    interval_seconds,
    next_boundary,
)

FIVE_MINUTES = timedelta(minutes=5)
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


def test_the_next_boundary_is_the_next_multiple_of_the_interval() -> None:
    now = datetime(2026, 3, 4, 10, 3, 20, tzinfo=UTC)
    assert next_boundary(now, FIVE_MINUTES) == datetime(2026, 3, 4, 10, 5, tzinfo=UTC)


def test_an_instant_on_a_boundary_is_its_own_next_boundary() -> None:
    now = datetime(2026, 3, 4, 10, 5, tzinfo=UTC)
    assert next_boundary(now, FIVE_MINUTES) == now


def test_boundaries_include_the_start_and_exclude_the_end() -> None:
    start = datetime(2026, 3, 4, tzinfo=UTC)
    instants = list(boundaries(start, start + timedelta(minutes=15), FIVE_MINUTES))
    assert instants == [start, start + FIVE_MINUTES, start + 2 * FIVE_MINUTES]


@given(
    start=instants,
    length=st.integers(min_value=-600, max_value=100_000),
    seconds=st.sampled_from([1, 60, 300, 900, 3600]),
)
def test_counting_boundaries_agrees_with_listing_them(
    start: datetime, length: int, seconds: int
) -> None:
    interval = timedelta(seconds=seconds)
    end = start + timedelta(seconds=length)
    listed = list(boundaries(start, end, interval))
    assert count_boundaries(start, end, interval) == len(listed)
    assert all(start <= instant < end for instant in listed)
    assert all(instant == next_boundary(instant, interval) for instant in listed)


@pytest.mark.parametrize(
    "interval",
    [timedelta(0), timedelta(seconds=-5), timedelta(milliseconds=1500), timedelta(days=2)],
)
def test_an_interval_that_is_not_whole_seconds_up_to_a_day_is_refused(interval: timedelta) -> None:
    with pytest.raises(ConfigurationError, match="sampling interval"):
        interval_seconds(interval)


def test_the_interval_is_given_to_the_store_in_seconds() -> None:
    assert interval_seconds(FIVE_MINUTES) == 300
