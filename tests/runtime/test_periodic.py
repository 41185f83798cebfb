"""Background jobs repeat until stopped, survive failures and stop at once."""

from __future__ import annotations

import asyncio

from license_service.runtime.periodic import run_periodically


def test_the_action_runs_at_once_then_every_period_until_stopped() -> None:
    calls: list[int] = []
    slept: list[float] = []

    async def scenario() -> None:
        stop = asyncio.Event()

        async def sleep(seconds: float) -> None:
            slept.append(seconds)
            if len(slept) == 3:
                stop.set()
            await asyncio.sleep(0)

        await run_periodically(
            lambda: calls.append(len(calls)), every=2.5, stop=stop, name="counting", sleep=sleep
        )

    asyncio.run(scenario())

    assert calls == [0, 1, 2]
    assert slept == [2.5, 2.5, 2.5]


def test_a_failing_action_is_tried_again_at_the_next_period() -> None:
    outcomes: list[str] = []

    def flaky() -> None:
        outcomes.append("called")
        if len(outcomes) < 3:
            raise OSError("disk not ready")

    async def scenario() -> None:
        stop = asyncio.Event()

        async def sleep(seconds: float) -> None:
            if len(outcomes) == 4:
                stop.set()
            await asyncio.sleep(0)

        await run_periodically(flaky, every=1, stop=stop, name="reading a file", sleep=sleep)

    asyncio.run(scenario())

    assert outcomes == ["called"] * 4


def test_setting_stop_ends_the_wait_at_once() -> None:
    calls: list[None] = []

    async def scenario() -> bool:
        stop = asyncio.Event()

        async def sleep_forever(seconds: float) -> None:
            await asyncio.Event().wait()

        job = asyncio.create_task(
            run_periodically(
                lambda: calls.append(None), every=86_400, stop=stop, name="x", sleep=sleep_forever
            )
        )
        while not calls:
            await asyncio.sleep(0)
        stop.set()
        await asyncio.wait_for(job, timeout=5)
        return job.done()

    assert asyncio.run(scenario()) is True
    assert len(calls) == 1
