"""client-go's election decisions, on a fake clock: acquire, renew, wait, take over, release."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from license_service.election.decisions import (
    Create,
    ElectionTiming,
    Leadership,
    Update,
    Wait,
    decide,
    observe,
    released,
)
from license_service.election.lease_records import LeaseRecord, ReplicaId

A = ReplicaId("pod-a")
B = ReplicaId("pod-b")
T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
TIMING = ElectionTiming()


def held_by(holder: str, *, renewed: datetime = T0, transitions: int = 3) -> LeaseRecord:
    return LeaseRecord(
        holder=holder,
        lease_duration_seconds=15,
        acquire_time=T0 - timedelta(hours=1),
        renew_time=renewed,
        transitions=transitions,
    )


def test_a_missing_lease_is_created_held_by_us() -> None:
    decision = decide(A, None, now=100.0, wall_now=T0, timing=TIMING)

    assert decision == Create(
        LeaseRecord(
            holder=A, lease_duration_seconds=15, acquire_time=T0, renew_time=T0, transitions=0
        )
    )


def test_a_lease_held_by_another_is_left_while_its_record_changed_within_the_duration() -> None:
    observed = observe(None, held_by(B), "7", now=100.0)

    decision = decide(A, observed, now=114.9, wall_now=T0, timing=TIMING)

    assert isinstance(decision, Wait)
    assert decision.holder == B
    assert decision.expires_in.total_seconds() == pytest.approx(0.1)


def test_an_expired_lease_is_taken_over_with_a_transition_and_the_version_read() -> None:
    observed = observe(None, held_by(B, transitions=3), "7", now=100.0)
    later = T0 + timedelta(minutes=1)

    decision = decide(A, observed, now=115.0, wall_now=later, timing=TIMING)

    assert decision == Update(
        LeaseRecord(
            holder=A, lease_duration_seconds=15, acquire_time=later, renew_time=later, transitions=4
        ),
        resource_version="7",
        taking_over_from=B,
    )


def test_expiry_is_judged_by_when_we_saw_the_record_change_not_by_its_renew_time() -> None:
    # Our wall clock reads a day after the holder's renewTime (clocks disagree): no matter.
    observed = observe(None, held_by(B, renewed=T0), "7", now=100.0)

    decision = decide(A, observed, now=101.0, wall_now=T0 + timedelta(days=1), timing=TIMING)

    assert isinstance(decision, Wait)


def test_a_renewal_seen_restarts_the_wait_and_an_unchanged_record_does_not() -> None:
    first = observe(None, held_by(B), "7", now=100.0)
    unchanged = observe(first, held_by(B), "7", now=110.0)
    renewed = observe(unchanged, held_by(B, renewed=T0 + timedelta(seconds=5)), "8", now=112.0)

    assert unchanged.observed_at == 100.0
    assert renewed.observed_at == 112.0
    assert isinstance(decide(A, renewed, now=120.0, wall_now=T0, timing=TIMING), Wait)
    assert isinstance(decide(A, unchanged, now=115.0, wall_now=T0, timing=TIMING), Update)


def test_our_own_lease_is_renewed_keeping_its_acquire_time_and_transitions() -> None:
    record = held_by(A, transitions=2)
    observed = observe(None, record, "9", now=100.0)
    later = T0 + timedelta(seconds=5)

    decision = decide(A, observed, now=105.0, wall_now=later, timing=TIMING)

    assert decision == Update(
        LeaseRecord(
            holder=A,
            lease_duration_seconds=15,
            acquire_time=record.acquire_time,
            renew_time=later,
            transitions=2,
        ),
        resource_version="9",
        taking_over_from=None,
    )


def test_a_released_lease_is_taken_at_once() -> None:
    record = released(held_by(B), wall_now=T0)
    observed = observe(None, record, "10", now=100.0)

    decision = decide(A, observed, now=100.0, wall_now=T0, timing=TIMING)

    assert record.holder == ""
    assert record.lease_duration_seconds == 1
    assert isinstance(decision, Update)
    assert decision.taking_over_from == ""


def test_a_leader_acts_only_until_the_renew_deadline_after_its_last_renewal_was_sent() -> None:
    leadership = Leadership(since=T0, renewed_at=100.0)

    assert leadership.acting(109.9, TIMING)
    assert not leadership.acting(110.0, TIMING)


def test_a_cut_off_leader_stops_acting_before_anyone_may_take_the_lease() -> None:
    # Renewal sent at 100 (ours); the other replica can see it no earlier than that.
    leadership = Leadership(since=T0, renewed_at=100.0)
    seen_by_other = observe(None, held_by(A), "11", now=100.0)
    first_takeover = next(
        t / 10
        for t in range(1000, 2000)
        if isinstance(decide(B, seen_by_other, now=t / 10, wall_now=T0, timing=TIMING), Update)
    )

    assert leadership.acting_until(TIMING) < first_takeover


@pytest.mark.parametrize(
    ("lease", "deadline", "retry"),
    [(15, 15, 5), (15, 10, 10), (15, 10, 0), (10, 15, 5)],
    ids=["deadline-not-shorter-than-lease", "retry-not-shorter", "no-retry", "lease-short"],
)
def test_timings_that_could_make_two_leaders_are_refused(
    lease: int, deadline: int, retry: int
) -> None:
    with pytest.raises(ValueError, match="lease duration > renew deadline > retry period"):
        ElectionTiming(
            lease_duration=timedelta(seconds=lease),
            renew_deadline=timedelta(seconds=deadline),
            retry_period=timedelta(seconds=retry),
        )
