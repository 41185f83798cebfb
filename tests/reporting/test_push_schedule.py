"""Which days the next pushes carry, and the waits after failures (pure)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from license_service.fleet.push_format import MAX_DAYS_PER_PUSH
from license_service.reporting.push_schedule import (
    FIRST_RETRY_SECONDS,
    LONGEST_RETRY_SECONDS,
    push_periods,
    retry_seconds,
)

TODAY = date(2026, 12, 6)


def test_the_first_push_covers_the_30_days_before_today_and_today_in_one_push() -> None:
    periods = push_periods(acknowledged_through=None, today=TODAY, initial_days=30)
    assert [(p.first, p.last) for p in periods] == [(date(2026, 11, 6), TODAY)]
    assert periods[0].days == 31


def test_pushes_resume_the_day_after_the_acknowledged_day() -> None:
    periods = push_periods(acknowledged_through=date(2026, 12, 1), today=TODAY, initial_days=30)
    assert [(p.first, p.last) for p in periods] == [(date(2026, 12, 2), TODAY)]


def test_today_is_pushed_again_while_it_lasts() -> None:
    yesterday = TODAY - timedelta(days=1)
    periods = push_periods(acknowledged_through=yesterday, today=TODAY, initial_days=30)
    assert [(p.first, p.last) for p in periods] == [(TODAY, TODAY)]
    # A Reporter claiming a later day still gets today.
    periods = push_periods(acknowledged_through=TODAY, today=TODAY, initial_days=30)
    assert [(p.first, p.last) for p in periods] == [(TODAY, TODAY)]


def test_a_731_day_backlog_goes_in_consecutive_pushes_of_at_most_31_days() -> None:
    periods = push_periods(acknowledged_through=None, today=TODAY, initial_days=731)
    assert periods[0].first == TODAY - timedelta(days=731)
    assert periods[-1].last == TODAY
    assert all(p.days <= MAX_DAYS_PER_PUSH for p in periods)
    assert all(b.first == a.last + timedelta(days=1) for a, b in itertools.pairwise(periods))
    assert sum(p.days for p in periods) == 732


def test_an_acknowledged_day_older_than_the_kept_peaks_starts_at_the_oldest_kept_day() -> None:
    periods = push_periods(acknowledged_through=date(2020, 1, 1), today=TODAY, initial_days=30)
    assert periods[0].first == TODAY - timedelta(days=731)


@pytest.mark.parametrize("jitter", [0.0, 0.5, 0.999])
def test_retries_back_off_doubling_with_jitter_up_to_a_ceiling(jitter: float) -> None:
    waits = [retry_seconds(n, jitter=jitter) for n in range(1, 12)]
    assert waits[0] == pytest.approx(FIRST_RETRY_SECONDS * (0.5 + jitter / 2))
    assert waits[1] == pytest.approx(2 * waits[0])
    assert all(a <= b for a, b in itertools.pairwise(waits))
    assert waits[-1] <= LONGEST_RETRY_SECONDS
    assert waits[-1] >= LONGEST_RETRY_SECONDS / 2
    assert retry_seconds(10_000, jitter=jitter) <= LONGEST_RETRY_SECONDS
