"""Sampling coverage: gaps from holes and from missed samples, and sample counts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from license_service.errors import StorageError
from license_service.metering.cluster_view import ClusterId
from license_service.store.database import Database
from license_service.store.retention import prune
from license_service.store.sampling_coverage import record_missed_sample
from license_service.store.sampling_gaps import Gap, SamplingSummary, gaps, sampling_summary
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
        # 10:10, 10:15, 10:20 and 10:25 were due; 10:30 came.
        Gap(at("2026-11-02", "10:05"), at("2026-11-02", "10:30"), None, samples_missed=4)
    ]


def test_a_late_sample_within_one_and_a_half_intervals_is_no_gap(db: Database) -> None:
    store(db, at("2026-11-02", "10:00"), product("db2", 1))
    store(db, at("2026-11-02", "10:07:30"), product("db2", 1))
    store(db, at("2026-11-02", "10:15:01"), product("db2", 1))

    assert gaps_between(db, at("2026-11-02", "10:00"), at("2026-11-02", "10:16")) == [
        # 10:12:30 was due, and more than half an interval late at 10:15:01.
        Gap(at("2026-11-02", "10:07:30"), at("2026-11-02", "10:15:01"), None, samples_missed=1)
    ]


def test_missed_samples_make_a_gap_with_their_reasons(db: Database) -> None:
    store(db, at("2026-11-02", "10:00"), product("db2", 1))
    miss(db, at("2026-11-02", "10:05"), NOT_SYNCED)
    miss(db, at("2026-11-02", "10:10"), STALE)
    miss(db, at("2026-11-02", "10:15"), STALE)
    store(db, at("2026-11-02", "10:20"), product("db2", 1))

    assert gaps_between(db, at("2026-11-02", "10:00"), at("2026-11-02", "10:25")) == [
        Gap(
            at("2026-11-02", "10:00"),
            at("2026-11-02", "10:20"),
            f"{NOT_SYNCED}; {STALE}",
            samples_missed=3,
        )
    ]


def test_a_missed_sample_is_a_gap_even_when_the_next_sample_comes_soon(db: Database) -> None:
    store(db, at("2026-11-02", "10:00"), product("db2", 1))
    miss(db, at("2026-11-02", "10:05"), NOT_SYNCED)
    store(db, at("2026-11-02", "10:06"), product("db2", 1))
    store(db, at("2026-11-02", "10:11"), product("db2", 1))

    assert gaps_between(db, at("2026-11-02", "10:00"), at("2026-11-02", "10:12")) == [
        Gap(at("2026-11-02", "10:00"), at("2026-11-02", "10:06"), NOT_SYNCED, samples_missed=1)
    ]


def test_time_before_the_first_sample_is_no_gap_and_after_the_last_is_one(db: Database) -> None:
    # Before the first sample ever (a fresh install) nothing was due (issue 12.5).
    sample_every(db, at("2026-11-02", "10:20"), at("2026-11-02", "10:40"))
    miss(db, at("2026-11-02", "10:50"), STALE)

    assert gaps_between(db, at("2026-11-02", "10:00"), at("2026-11-02", "11:00")) == [
        Gap(at("2026-11-02", "10:40"), at("2026-11-02", "11:00"), STALE, samples_missed=3),
    ]


def test_a_window_without_any_sample_is_one_gap_from_the_first_miss(db: Database) -> None:
    miss(db, at("2026-11-02", "10:05"), NOT_SYNCED)

    assert gaps_between(db, at("2026-11-02", "10:00"), at("2026-11-02", "11:00")) == [
        Gap(at("2026-11-02", "10:05"), at("2026-11-02", "11:00"), NOT_SYNCED, samples_missed=1)
    ]


def test_gaps_are_clipped_to_the_window(db: Database) -> None:
    store(db, at("2026-11-02", "09:00"), product("db2", 1))
    store(db, at("2026-11-02", "11:00"), product("db2", 1))

    assert gaps_between(db, at("2026-11-02", "10:00"), at("2026-11-02", "10:30")) == [
        Gap(at("2026-11-02", "10:00"), at("2026-11-02", "10:30"), None, samples_missed=6)
    ]


def test_a_hole_reaching_into_the_window_from_before_it_is_measured_whole(db: Database) -> None:
    # 09:58 to 10:06 is 8 minutes (over 7.5), though only 6 of them are in the window.
    store(db, at("2026-11-02", "09:58"), product("db2", 1))
    sample_every(db, at("2026-11-02", "10:06"), at("2026-11-02", "10:56"))

    assert gaps_between(db, at("2026-11-02", "10:00"), at("2026-11-02", "11:00")) == [
        Gap(at("2026-11-02", "10:00"), at("2026-11-02", "10:06"), None, samples_missed=1)
    ]


def test_midnight_does_not_break_coverage(db: Database) -> None:
    sample_every(db, at("2026-11-02", "23:50"), at("2026-11-03", "00:10"))

    assert gaps_between(db, at("2026-11-02", "23:50"), at("2026-11-03", "00:15")) == []


def test_gaps_of_one_cluster_ignore_the_samples_of_another(db: Database) -> None:
    sample_every(db, at("2026-11-02", "10:00"), at("2026-11-02", "10:55"), cluster_id=OTHER_CLUSTER)
    sample_every(db, at("2026-11-02", "10:00"), at("2026-11-02", "10:10"))

    assert gaps_between(db, at("2026-11-02", "10:00"), at("2026-11-02", "11:00")) == [
        Gap(at("2026-11-02", "10:10"), at("2026-11-02", "11:00"), None, samples_missed=9)
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
    # 11:00 to 11:55 were missed (one with a recorded reason): one way of counting.
    assert two_hours == SamplingSummary(12, 24, 300, 12)


def test_summary_counts_stay_exact_after_raw_samples_are_pruned(db: Database) -> None:
    sample_every(db, at("2026-11-02", "10:00"), at("2026-11-02", "10:55"))
    sample_every(db, at("2026-11-02", "23:45"), at("2026-11-03", "00:10"))
    with db.begin() as connection:
        removed = prune(connection, now=at("2027-02-01"))
    assert removed.samples == 18

    first_day = summary_between(db, at("2026-11-02"), at("2026-11-03"))
    second_day = summary_between(db, at("2026-11-03"), at("2026-11-04"))

    # Nothing is due before the first sample, 10:00; 11:00 to 23:40 were missed.
    assert first_day == SamplingSummary(15, 168, 300, 153, counted_from=at("2026-11-02", "10:00"))
    assert second_day == SamplingSummary(3, 288, 300, 285)


def test_summary_expects_samples_at_each_interval_in_force(db: Database) -> None:
    sample_every(db, at("2026-11-02", "10:00"), at("2026-11-02", "10:55"), minutes=5)
    sample_every(db, at("2026-11-02", "11:00"), at("2026-11-02", "11:59"), minutes=1)

    summary = summary_between(db, at("2026-11-02", "10:00"), at("2026-11-02", "12:00"))

    assert summary == SamplingSummary(
        samples_taken=72, samples_expected=72, interval_seconds=60, samples_missed=0
    )


def test_summary_of_a_cluster_never_sampled_expects_nothing(db: Database) -> None:
    assert summary_between(db, at("2026-11-02"), at("2026-11-03")) == SamplingSummary(0, 0, None, 0)


def test_summary_before_the_first_sample_expects_nothing_at_its_interval(db: Database) -> None:
    # It expected 288 (a fresh install showed "1 of 8521 expected", issue 12.5).
    sample_every(db, at("2026-11-03", "10:00"), at("2026-11-03", "10:05"))

    summary = summary_between(db, at("2026-11-02"), at("2026-11-03"))

    assert summary == SamplingSummary(0, 0, 300, 0)


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


# --- Issue 12.5: figures a new user reads -------------------------------------------------


def test_a_fresh_install_expects_samples_only_from_its_first_one(db: Database) -> None:
    # It read "1 of 8521 expected" with a 30-day gap: the 30-day window began before it.
    store(db, at("2026-11-28", "10:00"), product("db2", 1))
    window = (at("2026-10-30"), at("2026-11-28", "10:02"))

    assert gaps_between(db, *window) == []
    assert summary_between(db, *window) == SamplingSummary(
        1, 1, 300, 0, counted_from=at("2026-11-28", "10:00")
    )


def test_a_fresh_install_that_failed_from_the_start_has_a_gap_from_its_first_miss(
    db: Database,
) -> None:
    miss(db, at("2026-11-28", "10:00"), NOT_SYNCED)
    miss(db, at("2026-11-28", "10:05"), NOT_SYNCED)
    store(db, at("2026-11-28", "10:10"), product("db2", 1))
    window = (at("2026-10-30"), at("2026-11-28", "10:12"))

    assert gaps_between(db, *window) == [
        Gap(at("2026-11-28", "10:00"), at("2026-11-28", "10:10"), NOT_SYNCED, samples_missed=2)
    ]
    assert summary_between(db, *window) == SamplingSummary(
        1, 3, 300, 2, counted_from=at("2026-11-28", "10:00")
    )


def test_hourly_history_followed_by_five_minute_samples_is_complete(db: Database) -> None:
    # The demo: its history every hour up to 14:00, then every 5 minutes from 15:00.
    # The hour between was read at the new interval: a gap, and 100.1 % taken.
    sample_every(db, at("2026-11-28", "00:00"), at("2026-11-28", "14:00"), minutes=60)
    sample_every(db, at("2026-11-28", "15:00"), at("2026-11-28", "15:10"), minutes=5)
    # The live sampler's first sample at start, between two aligned instants.
    store(db, at("2026-11-28", "15:12:40"), product("db2", 1))

    window = (at("2026-11-28"), at("2026-11-28", "15:13"))

    assert gaps_between(db, *window) == []
    assert summary_between(db, *window) == SamplingSummary(19, 19, 300, 0)


@pytest.mark.parametrize(("now", "missed"), [("10:07:29", 0), ("10:07:31", 1), ("10:12:31", 2)])
def test_the_interval_in_progress_is_no_gap_until_its_sample_is_overdue(
    db: Database, now: str, missed: int
) -> None:
    sample_every(db, at("2026-11-28", "09:00"), at("2026-11-28", "10:00"))
    window = (at("2026-11-28", "09:00"), at("2026-11-28", now))

    found = gaps_between(db, *window)
    summary = summary_between(db, *window)

    assert [gap.samples_missed for gap in found] == ([missed] if missed else [])
    assert (summary.samples_taken, summary.samples_missed) == (13, missed)
    assert summary.samples_expected == 13 + missed


# --- Issue 11.9: one count of missed instants ---------------------------------------------


def test_instants_skipped_in_one_record_count_as_many_everywhere(db: Database) -> None:
    # data_condition.txt said "Samples missed: 1" beside "2 sampling instant(s) skipped".
    skipped = (
        "2 sampling instant(s) from 2026-11-02T10:05:00Z to 2026-11-02T10:10:00Z skipped: "
        "the clock jumped forward or the service was paused"
    )
    store(db, at("2026-11-02", "10:00"), product("db2", 1))
    miss(db, at("2026-11-02", "10:05"), skipped)
    sample_every(db, at("2026-11-02", "10:15"), at("2026-11-02", "10:25"))
    window = (at("2026-11-02", "10:00"), at("2026-11-02", "10:27"))

    [gap] = gaps_between(db, *window)
    summary = summary_between(db, *window)

    assert gap == Gap(at("2026-11-02", "10:00"), at("2026-11-02", "10:15"), skipped, 2)
    assert summary == SamplingSummary(4, 6, 300, 2)


def test_the_missed_instants_of_the_gaps_add_up_to_the_summary(db: Database) -> None:
    sample_every(db, at("2026-11-02", "08:00"), at("2026-11-02", "09:00"))
    miss(db, at("2026-11-02", "09:05"), STALE)
    sample_every(db, at("2026-11-02", "09:40"), at("2026-11-02", "10:00"), minutes=1)
    store(db, at("2026-11-02", "13:00"), product("db2", 1), interval_seconds=60)
    window = (at("2026-11-02", "08:30"), at("2026-11-02", "14:00"))

    found = gaps_between(db, *window)
    summary = summary_between(db, *window)

    assert summary.samples_missed == sum(gap.samples_missed for gap in found) > 0
    assert summary.samples_expected == summary.samples_taken + summary.samples_missed
    assert summary.taken_share() == (
        f" ({summary.samples_taken * 1000 // summary.samples_expected / 10:.1f} %)"
    )


def test_taken_share_is_rounded_down_and_absent_when_nothing_is_expected() -> None:
    assert SamplingSummary(862, 864, 300, 2).taken_share() == " (99.7 %)"
    assert SamplingSummary(0, 0, None, 0).taken_share() == ""
