"""Time (issue 6): day boundaries, a sample exactly at midnight UTC, a clock that jumps.

The real ``Sampler`` runs its loop on an injected clock and sleep (no real waiting)
and stores into a real SQLite file; the usage of the simulated pod follows the
clock, so a sample put on the wrong day would show in that day's peak.

- A sample at 00:00:00 UTC belongs to the new day; the previous day's peak and
  sample count stay as they were, and the midnight hole is no gap.
- A clock jumping forward by hours: the instants passed over are not sampled after
  the fact, they are logged, and the gap they leave is recorded with its reason.
- A clock set back (across midnight): no instant is sampled twice, no sample is
  stored before the last one (the previous day's peak is untouched), ``/health``
  says why samples are missing, and sampling resumes once the clock passes the
  last sample; a restarted sampler under that clock refuses too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from license_service.audit.data_condition import data_condition_text
from license_service.cluster.source import ClusterState
from license_service.metering.cluster_view import ClusterView, Container
from license_service.metering.periods import DatePeriod
from license_service.metering.settings import MeteringSettings
from license_service.metering.usage_rows import PRODUCT_ROWS
from license_service.sampling.sampler import Sampler
from license_service.store.database import Database
from license_service.store.instants import start_of_day
from license_service.store.period_peaks import period_peaks
from license_service.store.sampling_gaps import gaps, sampling_summary
from license_service.web.probes.health import health_document
from tests.audit.test_data_condition import CONDITION
from tests.sampling.doubles import (
    CLUSTER,
    SIX_CORES,
    FixedSource,
    daily_peaks,
    state,
    stored_sample_times,
)

DAY = date(2026, 3, 4)
NEXT_DAY = date(2026, 3, 5)
INTERVAL = timedelta(minutes=5)


def at(day: date, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


MIDNIGHT = at(NEXT_DAY, 0, 0)


def using(cores: int) -> ClusterView:
    """The one-product cluster with its pod using ``cores`` cores."""
    pod = dataclasses.replace(SIX_CORES.pods[0], containers=(Container("liberty", str(cores)),))
    return dataclasses.replace(SIX_CORES, pods=(pod,))


class JumpingTime:
    """A clock and a sleep that moves it; the clock jumps by ``jump`` once it reaches ``jump_at``.

    ``stop`` is set once ``run_for`` of sleeping has passed (elapsed time, whatever
    the clock reads). ``usage`` gives the pod's cores at the clock's time and whether
    the jump happened, for ``source``.
    """

    def __init__(
        self,
        now: datetime,
        *,
        run_for: timedelta,
        stop: asyncio.Event,
        jump_at: datetime | None = None,
        jump: timedelta = timedelta(0),
        usage: Callable[[datetime, bool], int] = lambda now, jumped: 6,
    ) -> None:
        self.now = now
        self.left = run_for
        self.stop = stop
        self.jump_at = jump_at
        self.jump = jump
        self.jumped = False
        self.usage = usage
        self.slept: list[float] = []

    def clock(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)
        self.left -= timedelta(seconds=seconds)
        if self.jump_at is not None and not self.jumped and self.now >= self.jump_at:
            self.now += self.jump
            self.jumped = True
        if self.left <= timedelta(0):
            self.stop.set()
        await asyncio.sleep(0)

    def current(self) -> ClusterState:
        """The source's state: synchronised, current at the clock's time."""
        return state(observed_at=self.now, view=using(self.usage(self.now, self.jumped)))


@pytest.fixture
def run_loop(database: Database) -> Callable[..., tuple[Sampler, JumpingTime]]:
    """Run the sampler's loop on a ``JumpingTime`` (arguments of ``JumpingTime``)."""

    def run(now: datetime, **time_arguments: object) -> tuple[Sampler, JumpingTime]:
        async def scenario() -> tuple[Sampler, JumpingTime]:
            stop = asyncio.Event()
            time = JumpingTime(now, stop=stop, **time_arguments)  # type: ignore[arg-type]
            sampler = Sampler(
                time,
                database,
                settings=MeteringSettings,
                clock=time.clock,
                sleep=time.sleep,
                interval=INTERVAL,
            )
            await sampler.run(stop)
            return sampler, time

        return asyncio.run(scenario())

    return run


def test_a_sample_exactly_at_midnight_belongs_to_the_new_day_and_leaves_the_previous_one(
    database: Database, run_loop: Callable[..., tuple[Sampler, JumpingTime]]
) -> None:
    run_loop(
        at(DAY, 23, 47, 30),
        run_for=timedelta(minutes=20),
        usage=lambda now, jumped: 10 if now >= MIDNIGHT else 6,
    )

    assert stored_sample_times(database) == [
        at(DAY, 23, 47, 30),
        at(DAY, 23, 50),
        at(DAY, 23, 55),
        MIDNIGHT,
        at(NEXT_DAY, 0, 5),
    ]
    assert daily_peaks(database) == {"2026-03-04": 6, "2026-03-05": 10}
    with database.read() as connection:
        (day_peak,) = period_peaks(
            connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=DatePeriod(DAY, DAY)
        )
        day = sampling_summary(
            connection, cluster_id=CLUSTER, start=start_of_day(DAY), end=MIDNIGHT
        )
        next_day = sampling_summary(
            connection, cluster_id=CLUSTER, start=MIDNIGHT, end=at(NEXT_DAY, 0, 10)
        )
        around = gaps(
            connection, cluster_id=CLUSTER, start=at(DAY, 23, 47, 30), end=at(NEXT_DAY, 0, 10)
        )
    assert (day_peak.row.quantity, day_peak.peak_date) == (6, DAY)
    assert (day.samples_taken, next_day.samples_taken) == (3, 2)
    assert next_day.samples_expected == 2
    assert around == []


def test_a_clock_jumping_hours_forward_skips_the_instants_logs_them_and_records_the_gap(
    database: Database,
    run_loop: Callable[..., tuple[Sampler, JumpingTime]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="license_service.sampling.sampler"):
        sampler, _ = run_loop(
            at(DAY, 10, 3, 20),
            run_for=timedelta(minutes=16, seconds=40),
            jump_at=at(DAY, 10, 10),
            jump=timedelta(hours=3),
        )

    # Not at 10:10, which the jump left three hours in the past: at the instant reached.
    assert stored_sample_times(database) == [
        at(DAY, 10, 3, 20),
        at(DAY, 10, 5),
        at(DAY, 13, 10),
        at(DAY, 13, 15),
    ]
    assert [record.getMessage() for record in caplog.records] == [
        "Skipped 36 sampling instant(s) from 2026-03-04T10:10:00+00:00 to "
        "2026-03-04T13:05:00+00:00: the clock jumped forward, the service was paused or "
        "the previous sample took longer than the interval"
    ]
    with database.read() as connection:
        found = gaps(connection, cluster_id=CLUSTER, start=at(DAY, 10, 3, 20), end=at(DAY, 13, 20))
    assert [(gap.start, gap.end, gap.reason) for gap in found] == [
        (
            at(DAY, 10, 5),
            at(DAY, 13, 10),
            "36 sampling instant(s) from 2026-03-04T10:10:00Z to 2026-03-04T13:05:00Z "
            "skipped: the clock jumped forward or the service was paused",
        )
    ]
    # Counted one way: by the sampler, in the gap and in the summary (issue 11.9).
    assert found[0].samples_missed == sampler.status().samples_missed == 36


def test_skipped_instants_are_counted_alike_by_the_sampler_the_gaps_and_the_snapshot(
    database: Database, run_loop: Callable[..., tuple[Sampler, JumpingTime]]
) -> None:
    # data_condition.txt said "Samples missed: 1" beside a gap of "2 sampling instant(s)
    # skipped", and the status page "0 missed".
    sampler, _ = run_loop(
        at(DAY, 10, 0),
        run_for=timedelta(minutes=20),
        jump_at=at(DAY, 10, 5),
        jump=timedelta(minutes=10, seconds=30),
    )
    end = at(DAY, 10, 32)
    with database.read() as connection:
        summary = sampling_summary(connection, cluster_id=CLUSTER, start=at(DAY, 10, 0), end=end)
        found = gaps(connection, cluster_id=CLUSTER, start=at(DAY, 10, 0), end=end)
    text = data_condition_text(dataclasses.replace(CONDITION, sampling=summary, gaps=tuple(found)))

    [gap] = found
    assert (gap.start, gap.end) == (at(DAY, 10, 0), at(DAY, 10, 15))
    assert (gap.reason or "").startswith("2 sampling instant(s) from 2026-03-04T10:05:00Z")
    assert sampler.status().samples_missed == gap.samples_missed == summary.samples_missed == 2
    assert "  Samples missed:        2 (sampling instants" in text
    assert f"2026-03-04T10:15:00Z (15 min, 2 missed): {gap.reason}" in text
    assert summary.samples_expected == summary.samples_taken + 2


def test_a_clock_set_back_across_midnight_stores_no_duplicate_and_nothing_in_the_past(
    database: Database,
    run_loop: Callable[..., tuple[Sampler, JumpingTime]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Usage grows to 50 cores after the clock is set back to the previous evening: a
    # sample stored at the clock's time would raise that past day's peak to 50.
    with caplog.at_level(logging.WARNING, logger="license_service.sampling.sampler"):
        sampler, time = run_loop(
            at(DAY, 23, 53, 20),
            run_for=timedelta(hours=2, minutes=30),
            jump_at=at(NEXT_DAY, 0, 10),
            jump=-timedelta(hours=2),
            usage=lambda now, jumped: 50 if jumped else 6,
        )

    times = stored_sample_times(database)
    assert times == sorted(set(times)), "an instant was sampled twice or out of order"
    assert times[:6] == [
        at(DAY, 23, 53, 20),
        at(DAY, 23, 55),
        MIDNIGHT,
        at(NEXT_DAY, 0, 5),
        at(NEXT_DAY, 0, 10),  # due as the clock jumped: taken once the clock came back to it
        at(NEXT_DAY, 0, 15),
    ]
    assert daily_peaks(database)["2026-03-04"] == 6
    assert max(time.slept) <= INTERVAL.total_seconds(), "a wait longer than an interval"
    set_back = [record for record in caplog.records if "it was set back" in record.getMessage()]
    assert len(set_back) == 1
    assert (
        set_back[0]
        .getMessage()
        .startswith(
            "The clock reads 2026-03-04T22:10:00+00:00, before the last sample at "
            "2026-03-05T00:05:00+00:00: it was set back"
        )
    )
    assert sampler.status().ticks_failed == 0

    # While the clock reads before the last sample, /health says why none is taken.
    health = health_document(
        now=at(DAY, 22, 30),
        sampler=dataclasses.replace(sampler.status(), last_sample_at=at(NEXT_DAY, 0, 5)),
        source=time.current(),
        token_problem=None,
    )
    assert health["status"] == "DEGRADED"
    assert health["warnings"][0] == (
        "samples are missing: the clock reads 2026-03-04T22:30:00Z, before the last sample "
        "at 2026-03-05T00:05:00Z; it was set back, and no sample is taken until it passes "
        "that instant"
    )


def test_a_restarted_sampler_under_a_clock_set_back_refuses_to_store_in_the_past(
    database: Database,
) -> None:
    before = Sampler(
        FixedSource(state(observed_at=MIDNIGHT, view=using(6))),
        database,
        settings=MeteringSettings,
        clock=lambda: MIDNIGHT,
        interval=INTERVAL,
    )
    assert before.take_sample(at(DAY, 23, 55)) == "sampled"
    assert before.take_sample(MIDNIGHT) == "sampled"

    evening = at(DAY, 22, 30)
    restarted = Sampler(
        # The view is current for every instant asked below.
        FixedSource(state(observed_at=at(NEXT_DAY, 0, 5), view=using(50))),
        database,
        settings=MeteringSettings,
        clock=lambda: evening,
        interval=INTERVAL,
    )
    assert restarted.take_first_sample(evening) is False
    assert (restarted.status().ticks_failed, restarted.status().last_tick_at) == (0, None)
    assert restarted.take_sample(evening) == "failed"
    assert restarted.take_sample(MIDNIGHT) == "failed"
    assert restarted.status().last_error == (
        "no sample at 2026-03-05T00:00:00Z: a sample at 2026-03-05T00:00:00Z is stored "
        "already: the clock was set back (or another instance samples this cluster); "
        "sampling resumes once the clock passes that instant"
    )

    assert stored_sample_times(database) == [at(DAY, 23, 55), MIDNIGHT]
    assert daily_peaks(database) == {"2026-03-04": 6, "2026-03-05": 6}
    assert restarted.take_sample(at(NEXT_DAY, 0, 5)) == "sampled"
