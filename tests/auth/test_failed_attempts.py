"""Clients that keep failing are refused for a while (429 + Retry-After); memory stays bounded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from license_service.auth.failed_attempts import FailedAttemptLimiter
from license_service.errors import ConfigurationError
from tests.auth.clocks import START, FakeClock


def limiter(**limits: int) -> FailedAttemptLimiter:
    return FailedAttemptLimiter(
        max_failures=limits.get("max_failures", 3),
        window=timedelta(seconds=limits.get("window", 60)),
        max_clients=limits.get("max_clients", 100),
    )


def fail(limits: FailedAttemptLimiter, client: str, clock: FakeClock, times: int) -> None:
    for _ in range(times):
        limits.record_failure(client, clock())


def test_a_client_may_try_until_it_reaches_the_failure_limit() -> None:
    clock, limits = FakeClock(), limiter(max_failures=3)

    fail(limits, "10.0.0.1", clock, 2)
    allowed = limits.retry_after("10.0.0.1", clock())
    fail(limits, "10.0.0.1", clock, 1)

    assert allowed is None
    assert limits.retry_after("10.0.0.1", clock()) == 60


def test_retry_after_counts_down_to_when_the_oldest_failure_leaves_the_window() -> None:
    clock, limits = FakeClock(), limiter(max_failures=3)
    fail(limits, "10.0.0.1", clock, 1)
    clock.advance(20.5)
    fail(limits, "10.0.0.1", clock, 2)

    assert limits.retry_after("10.0.0.1", clock()) == 40  # 39.5 s, rounded up
    clock.advance(39)
    assert limits.retry_after("10.0.0.1", clock()) == 1
    clock.advance(0.5)
    assert limits.retry_after("10.0.0.1", clock()) is None


def test_a_blocked_client_recovers_one_attempt_at_a_time() -> None:
    clock, limits = FakeClock(), limiter(max_failures=3)
    for _ in range(3):
        fail(limits, "10.0.0.1", clock, 1)
        clock.advance(10)

    clock.advance(30)  # at 60 s the first failure (at 0 s) has left the window
    assert limits.retry_after("10.0.0.1", clock()) is None
    fail(limits, "10.0.0.1", clock, 1)
    assert limits.retry_after("10.0.0.1", clock()) == 10


def test_failures_of_one_client_do_not_block_another() -> None:
    clock, limits = FakeClock(), limiter(max_failures=3)

    fail(limits, "10.0.0.1", clock, 3)

    assert limits.retry_after("10.0.0.2", clock()) is None


def test_a_success_clears_that_client_only() -> None:
    clock, limits = FakeClock(), limiter(max_failures=3)
    fail(limits, "10.0.0.1", clock, 2)
    fail(limits, "10.0.0.2", clock, 2)

    limits.record_success("10.0.0.1")
    fail(limits, "10.0.0.1", clock, 1)
    fail(limits, "10.0.0.2", clock, 1)

    assert limits.retry_after("10.0.0.1", clock()) is None
    assert limits.retry_after("10.0.0.2", clock()) == 60


def test_at_most_max_clients_are_tracked_forgetting_the_least_recent_first() -> None:
    clock, limits = FakeClock(), limiter(max_failures=1, max_clients=3)
    for number in range(1, 6):
        fail(limits, f"10.0.0.{number}", clock, 1)

    assert limits.tracked_clients == 3
    assert limits.retry_after("10.0.0.1", clock()) is None
    assert limits.retry_after("10.0.0.5", clock()) == 60


def test_a_client_failing_again_is_kept_over_quieter_ones() -> None:
    clock, limits = FakeClock(), limiter(max_failures=2, max_clients=2)
    fail(limits, "attacker", clock, 1)
    fail(limits, "other", clock, 1)
    fail(limits, "attacker", clock, 1)

    fail(limits, "newcomer", clock, 1)

    assert limits.retry_after("attacker", clock()) == 60


def test_clients_whose_failures_expired_are_forgotten() -> None:
    clock, limits = FakeClock(), limiter(max_failures=3)
    fail(limits, "10.0.0.1", clock, 1)

    clock.advance(60)
    assert limits.retry_after("10.0.0.1", clock()) is None

    assert limits.tracked_clients == 0


def test_the_default_limit_is_ten_failures_a_minute() -> None:
    limits = FailedAttemptLimiter()
    for second in range(10):
        limits.record_failure("10.0.0.1", START + timedelta(seconds=second))

    assert limits.retry_after("10.0.0.1", START + timedelta(seconds=10)) == 50


@pytest.mark.parametrize(
    "limits",
    [{"max_failures": 0}, {"max_clients": 0}, {"window": 0}],
    ids=["no-failures", "no-clients", "no-window"],
)
def test_limits_that_make_no_sense_are_refused(limits: dict[str, int]) -> None:
    with pytest.raises(ConfigurationError):
        limiter(**limits)
