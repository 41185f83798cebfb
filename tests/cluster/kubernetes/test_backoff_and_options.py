"""Reconnection delays and the validation of watch options."""

from __future__ import annotations

import random

import pytest

from license_service.cluster.kubernetes.backoff import Backoff
from license_service.cluster.kubernetes.watch_options import WatchOptions
from license_service.errors import ConfigurationError


def test_delays_double_from_the_initial_one_up_to_the_cap() -> None:
    backoff = Backoff(initial=0.5, cap=30, uniform=lambda low, high: high)

    delays = [backoff.next_delay() for _ in range(9)]

    assert delays == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]


def test_jitter_keeps_each_delay_in_the_upper_half_of_its_nominal_value() -> None:
    backoff = Backoff(initial=0.5, cap=30, uniform=random.Random(7).uniform)

    delays = [backoff.next_delay() for _ in range(8)]

    nominal = [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert all(n / 2 <= d <= n for d, n in zip(delays, nominal, strict=True))
    assert len(set(delays)) == len(delays)


def test_a_reset_starts_again_from_the_initial_delay() -> None:
    backoff = Backoff(initial=0.5, cap=30, uniform=lambda low, high: high)
    for _ in range(5):
        backoff.next_delay()

    backoff.reset()

    assert backoff.failures == 0
    assert backoff.next_delay() == 0.5


def test_a_thousand_failures_in_a_row_stay_at_the_cap() -> None:
    backoff = Backoff(initial=0.5, cap=30, uniform=lambda low, high: high)

    delays = [backoff.next_delay() for _ in range(1000)]

    assert delays[-1] == 30


def test_invalid_watch_options_are_refused_with_every_problem_named() -> None:
    with pytest.raises(ConfigurationError) as raised:
        WatchOptions(page_size=0, watch_timeout_seconds=0, backoff_cap_seconds=0.1)

    message = str(raised.value)
    assert "page_size is 0" in message
    assert "watch_timeout_seconds is 0" in message
    assert "backoff_cap_seconds is 0.1, it must be at least 0.5" in message


def test_a_silent_watch_counts_as_dropped_a_read_timeout_after_the_server_timeout() -> None:
    options = WatchOptions(watch_timeout_seconds=300, read_timeout_seconds=60)

    assert options.watch_read_timeout_seconds == 360
