"""The sampler's loop: aligned ticks, survival of failures, prompt stop; no real sleeping."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from license_service.metering.settings import MeteringSettings
from license_service.sampling.sampler import Sampler
from license_service.store.database import Database
from tests.sampling.doubles import ClockedSource, FakeTime, FlakyDatabase, stored_sample_times

STARTED = datetime(2026, 3, 4, 10, 3, 20, tzinfo=UTC)


def at(minute: int) -> datetime:
    return datetime(2026, 3, 4, 10, minute, tzinfo=UTC)


def run_until(until: datetime, database: Database | FlakyDatabase) -> tuple[Sampler, FakeTime]:
    """Run the loop on fake time from STARTED; the fake sleep sets stop at ``until``."""

    async def scenario() -> tuple[Sampler, FakeTime]:
        stop = asyncio.Event()
        time = FakeTime(STARTED, until=until, stop=stop)
        sampler = Sampler(
            ClockedSource(time.clock),
            database,
            settings=MeteringSettings,
            clock=time.clock,
            sleep=time.sleep,
        )
        await sampler.run(stop)
        return sampler, time

    return asyncio.run(scenario())


def test_the_loop_samples_at_start_then_at_every_aligned_boundary_until_stopped(
    database: Database,
) -> None:
    sampler, time = run_until(at(30), database)

    assert stored_sample_times(database) == [STARTED, at(5), at(10), at(15), at(20), at(25)]
    assert time.slept == [100.0, 300.0, 300.0, 300.0, 300.0, 300.0]
    assert sampler.status().samples_taken == 6


def test_the_status_names_the_instant_the_loop_waits_for(database: Database) -> None:
    assert run_until(STARTED, database)[0].status().next_sample_at == at(5)
    assert run_until(at(30), database)[0].status().next_sample_at == at(30)


def test_the_loop_keeps_sampling_after_failing_ticks(database: Database) -> None:
    sampler, _ = run_until(at(30), FlakyDatabase(database, failures=2))

    # The start sample and the one at :05 fail; sampling goes on from :10.
    assert stored_sample_times(database) == [at(10), at(15), at(20), at(25)]
    assert (sampler.status().ticks_failed, sampler.status().samples_taken) == (2, 4)


def test_setting_stop_ends_a_wait_at_once(database: Database) -> None:
    async def scenario() -> bool:
        stop = asyncio.Event()

        async def sleep_forever(seconds: float) -> None:
            await asyncio.Event().wait()

        sampler = Sampler(
            ClockedSource(lambda: STARTED),
            database,
            settings=MeteringSettings,
            clock=lambda: STARTED,
            sleep=sleep_forever,
        )
        loop = asyncio.create_task(sampler.run(stop))
        await asyncio.sleep(0)
        stop.set()
        await asyncio.wait_for(loop, timeout=5)
        return loop.done()

    assert asyncio.run(scenario()) is True
    assert stored_sample_times(database) == [STARTED]


def test_a_stop_during_the_first_wait_ends_the_loop_after_the_start_sample(
    database: Database,
) -> None:
    sampler, time = run_until(STARTED, database)

    assert stored_sample_times(database) == [STARTED]
    assert time.slept == [100.0]
    assert sampler.status().last_tick_at == STARTED


def test_a_loop_stopped_before_it_runs_takes_no_sample(database: Database) -> None:
    async def scenario() -> None:
        stop = asyncio.Event()
        stop.set()
        sampler = Sampler(
            ClockedSource(lambda: STARTED),
            database,
            settings=MeteringSettings,
            clock=lambda: STARTED,
        )
        await sampler.run(stop)

    asyncio.run(scenario())
    assert stored_sample_times(database) == []
