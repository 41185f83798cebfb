"""The one rule counting missed sampling instants (sampler, gaps and summaries use it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from license_service.store.missed_instants import missed_instants

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
FIVE_MINUTES = 300


def after(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("next_sample", "missed"),
    [
        (5, 0),  # on time
        (7.5, 0),  # late, within half an interval
        (7.51, 1),  # 10:05 missed
        (10, 1),  # 10:05 missed, 10:10 taken
        (15, 2),
        (185, 36),  # the clock jumped three hours
    ],
)
def test_instants_due_after_a_sample_are_missed_half_an_interval_late(
    next_sample: float, missed: int
) -> None:
    assert missed_instants(T0, after(next_sample), interval_seconds=FIVE_MINUTES) == missed


def test_only_the_instants_inside_the_window_count() -> None:
    # Due 10:05 ... 10:55; the window holds 10:20, 10:25 and 10:30.
    assert (
        missed_instants(
            T0,
            after(60),
            interval_seconds=FIVE_MINUTES,
            window=(after(17), after(31)),
        )
        == 3
    )


def test_nothing_is_missed_when_the_next_sample_is_not_later() -> None:
    assert missed_instants(T0, T0, interval_seconds=FIVE_MINUTES) == 0
    assert missed_instants(T0, after(-10), interval_seconds=FIVE_MINUTES) == 0


@given(
    hole=st.integers(min_value=1, max_value=10**9),
    interval_seconds=st.integers(min_value=1, max_value=86_400),
)
def test_a_hole_misses_an_instant_exactly_when_it_is_longer_than_one_and_a_half_intervals(
    hole: int, interval_seconds: int
) -> None:
    # The gap rule (more than 1.5 intervals) and the count never disagree.
    missed = missed_instants(
        T0, T0 + timedelta(milliseconds=hole), interval_seconds=interval_seconds
    )

    assert (missed > 0) == (hole * 2 > 3 * interval_seconds * 1000)


@given(steps=st.integers(min_value=1, max_value=10_000))
def test_between_two_aligned_samples_every_instant_between_is_missed(steps: int) -> None:
    assert missed_instants(T0, after(5 * steps), interval_seconds=FIVE_MINUTES) == steps - 1
