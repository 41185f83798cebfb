"""Sampling coverage: gaps from holes and from missed samples, and sample counts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from license_service.errors import StorageError
from license_service.metering.cluster_view import ClusterId
from license_service.store.database import Database
from license_service.store.retention import prune
from license_service.store.sampling_coverage import (
    Gap,
    SamplingSummary,
    gaps,
    record_missed_sample,
    sampling_summary,
)
from tests.store.sample_builders import CLUSTER, OTHER_CLUSTER, at, product, store

NOT_SYNCED = "cluster view not synchronised"
STALE = "view older than 15 minutes"


def sample_every(
    db: Database,
    first: datetime,
    last: datetime,
    *,
    minutes: int = 5,
    cluster_id: ClusterId = CLUSTER,
) -> None:
    """One sample every ``minutes`` from ``first`` to ``last``, both included."""
    when = first
    while when <= last:
        store(db, when, product("db2", 1), cluster_id=cluster_id, interval_seconds=minutes * 60)
        when += timedelta(minutes=minutes)


def miss(db: Database, when: datetime, reason: str) -> None:
    with db.begin() as connection:
        record_missed_sample(connection, cluster_id=CLUSTER, at=when, reason=reason)


def gaps_between(
    db: Database, start: datetime, end: datetime, cluster_id: ClusterId = CLUSTER
) -> list[Gap]:
    with db.begin() as connection:
        return gaps(connection, cluster_id=cluster_id, start=start, end=end)


def summary_between(db: Database, start: datetime, end: datetime) -> SamplingSummary:
    with db.begin() as connection:
        return sampling_summary(connection, cluster_id=CLUSTER, start=start, end=end)


def test_samples_at_the_interval_leave_no_gap(db: Database) -> None:
    sample_every(db, at("2026-11-02", "10:00"), at("2026-11-02", "10:55"))

    assert gaps_between(db, at("2026-11-02", "10:00"), at("2026-11-02", "11:00")) == []


def test_a_hole_longer_than_one_and_a_half_intervals_is_a_gap(db: Database) -> None:
    sample_every(db, at("2026-11-02", "10:00"), at("2026-11-02", "10:05"))
    sample_every(db, at("2026-11-02", "10:30"), at("2026-11-02", "10:55"))

    assert gaps_between(db, at("2026-11-02", "10:00"), at("2026-11-02", "11:00")) == [
        Gap(at("2026-11-02", "10:05"), at("2026-11-02", "10:30"), None)
    ]


def test_a_late_sample_within_one_and_a_half_intervals_is_no_gap(db: Database) -> None:
    store(db, at("2026-11-02", "10:00"), product("db2", 1))
    store(db, at("2026-11-02", "10:07:30"), product("db2", 1))
    store(db, at("2026-11-02", "10:15:01"), product("db2", 1))

    assert gaps_between(db, at("2026-11-02", "10:00"), at("2026-11-02", "10:16")) == [
        Gap(at("2026-11-02", "10:07:30"), at("2026-11-02", "10:15:01"), None)
    ]


def test_missed_samples_make_a_gap_with_their_reasons(db: Database) -> None:
    store(db, at("2026-11-02", "10:00"), product("db2", 1))
    miss(db, at("2026-11-02", "10:05"), NOT_SYNCED)
    miss(db, at("2026-11-02", "10:10"), STALE)
    miss(db, at("2026-11-02", "10:15"), STALE)
    store(db, at("2026-11-02", "10:20"), product("db2", 1))

    assert gaps_between(db, at("2026-11-02", "10:00"), at("2026-11-02", "10:25")) == [
        Gap(at("2026-11-02", "10:00"), at("2026-11-02", "10:20"), f"{NOT_SYNCED}; {STALE}")
    ]


def test_a_missed_sample_is_a_gap_even_when_the_next_sample_comes_soon(db: Database) -> None:
    store(db, at("2026-11-02", "10:00"), product("db2", 1))
    miss(db, at("2026-11-02", "10:05"), NOT_SYNCED)
    store(db, at("2026-11-02", "10:06"), product("db2", 1))
    store(db, at("2026-11-02", "10:11"), product("db2", 1))

    assert gaps_between(db, at("2026-11-02", "10:00"), at("2026-11-02", "10:12")) == [
        Gap(at("2026-11-02", "10:00"), at("2026-11-02", "10:06"), NOT_SYNCED)
    ]


def test_time_before_the_first_sample_and_after_the_last_is_a_gap(db: Database) -> None:
    sample_every(db, at("2026-11-02", "10:20"), at("2026-11-02", "10:40"))
    miss(db, at("2026-11-02", "10:50"), STALE)

    assert gaps_between(db, at("2026-11-02", "10:00"), at("2026-11-02", "11:00")) == [
        Gap(at("2026-11-02", "10:00"), at("2026-11-02", "10:20"), None),
        Gap(at("2026-11-02", "10:40"), at("2026-11-02", "11:00"), STALE),
    ]


def test_a_window_without_any_sample_is_one_gap(db: Database) -> None:
    miss(db, at("2026-11-02", "10:05"), NOT_SYNCED)

    assert gaps_between(db, at("2026-11-02", "10:00"), at("2026-11-02", "11:00")) == [
        Gap(at("2026-11-02", "10:00"), at("2026-11-02", "11:00"), NOT_SYNCED)
    ]


def test_gaps_are_clipped_to_the_window(db: Database) -> None:
    store(db, at("2026-11-02", "09:00"), product("db2", 1))
    store(db, at("2026-11-02", "11:00"), product("db2", 1))

    assert gaps_between(db, at("2026-11-02", "10:00"), at("2026-11-02", "10:30")) == [
        Gap(at("2026-11-02", "10:00"), at("2026-11-02", "10:30"), None)
    ]


def test_a_hole_reaching_into_the_window_from_before_it_is_measured_whole(db: Database) -> None:
    # 09:58 to 10:06 is 8 minutes (over 7.5), though only 6 of them are in the window.
    store(db, at("2026-11-02", "09:58"), product("db2", 1))
    sample_every(db, at("2026-11-02", "10:06"), at("2026-11-02", "10:56"))

    assert gaps_between(db, at("2026-11-02", "10:00"), at("2026-11-02", "11:00")) == [
        Gap(at("2026-11-02", "10:00"), at("2026-11-02", "10:06"), None)
    ]


def test_midnight_does_not_break_coverage(db: Database) -> None:
    sample_every(db, at("2026-11-02", "23:50"), at("2026-11-03", "00:10"))

    assert gaps_between(db, at("2026-11-02", "23:50"), at("2026-11-03", "00:15")) == []


def test_gaps_of_one_cluster_ignore_the_samples_of_another(db: Database) -> None:
    sample_every(db, at("2026-11-02", "10:00"), at("2026-11-02", "10:55"), cluster_id=OTHER_CLUSTER)
    sample_every(db, at("2026-11-02", "10:00"), at("2026-11-02", "10:10"))

    assert gaps_between(db, at("2026-11-02", "10:00"), at("2026-11-02", "11:00")) == [
        Gap(at("2026-11-02", "10:10"), at("2026-11-02", "11:00"), None)
    ]


def test_summary_counts_samples_taken_and_expected_in_the_window(db: Database) -> None:
    sample_every(db, at("2026-11-02", "10:00"), at("2026-11-02", "10:55"))
    miss(db, at("2026-11-02", "11:00"), STALE)

    whole_hour = summary_between(db, at("2026-11-02", "10:00"), at("2026-11-02", "11:00"))
    # Cuts the coverage interval: 10:15, 10:20, 10:25 and 10:30.
    part = summary_between(db, at("2026-11-02", "10:12"), at("2026-11-02", "10:32"))
    two_hours = summary_between(db, at("2026-11-02", "10:00"), at("2026-11-02", "12:00"))

    assert whole_hour == SamplingSummary(12, 12, 300, 0)
    assert part == SamplingSummary(4, 4, 300, 0)
    assert two_hours == SamplingSummary(12, 24, 300, 1)


def test_summary_counts_stay_exact_after_raw_samples_are_pruned(db: Database) -> None:
    sample_every(db, at("2026-11-02", "10:00"), at("2026-11-02", "10:55"))
    sample_every(db, at("2026-11-02", "23:45"), at("2026-11-03", "00:10"))
    with db.begin() as connection:
        removed = prune(connection, now=at("2027-02-01"))
    assert removed.samples == 18

    first_day = summary_between(db, at("2026-11-02"), at("2026-11-03"))
    second_day = summary_between(db, at("2026-11-03"), at("2026-11-04"))

    assert first_day == SamplingSummary(15, 288, 300, 0)
    assert second_day == SamplingSummary(3, 288, 300, 0)


def test_summary_expects_samples_at_each_interval_in_force(db: Database) -> None:
    sample_every(db, at("2026-11-02", "10:00"), at("2026-11-02", "10:55"), minutes=5)
    sample_every(db, at("2026-11-02", "11:00"), at("2026-11-02", "11:59"), minutes=1)

    summary = summary_between(db, at("2026-11-02", "10:00"), at("2026-11-02", "12:00"))

    assert summary == SamplingSummary(
        samples_taken=72, samples_expected=72, interval_seconds=60, samples_missed=0
    )


def test_summary_of_a_cluster_never_sampled_expects_nothing(db: Database) -> None:
    assert summary_between(db, at("2026-11-02"), at("2026-11-03")) == SamplingSummary(0, 0, None, 0)


def test_summary_before_the_first_sample_expects_samples_at_its_interval(db: Database) -> None:
    sample_every(db, at("2026-11-03", "10:00"), at("2026-11-03", "10:05"))

    summary = summary_between(db, at("2026-11-02"), at("2026-11-03"))

    assert summary == SamplingSummary(0, 288, 300, 0)


def test_a_missed_sample_needs_a_reason(db: Database) -> None:
    with pytest.raises(StorageError, match="empty reason"):
        miss(db, at("2026-11-02", "10:00"), "  ")


def test_a_window_ending_before_it_starts_is_refused(db: Database) -> None:
    with pytest.raises(StorageError, match="ends before it starts"):
        gaps_between(db, at("2026-11-02", "11:00"), at("2026-11-02", "10:00"))


def test_a_naive_window_is_refused(db: Database) -> None:
    with pytest.raises(StorageError, match="no time zone"):
        summary_between(db, datetime(2026, 11, 2), at("2026-11-03"))


def test_a_miss_recorded_inside_covered_time_still_shows_as_a_gap(db: Database) -> None:
    sample_every(db, at("2026-11-02", "10:00"), at("2026-11-02", "10:10"))
    miss(db, at("2026-11-02", "10:05:30"), STALE)

    assert gaps_between(db, at("2026-11-02", "10:00"), at("2026-11-02", "10:12")) == [
        Gap(at("2026-11-02", "10:05:30"), at("2026-11-02", "10:05:30"), STALE)
    ]
