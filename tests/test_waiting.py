"""The one wait that a stop cuts short: ends early, raises a broken sleep, keeps cancellation."""

from __future__ import annotations

import asyncio

import pytest

from license_service.waiting import stopped_while_waiting


async def _sleep_forever(seconds: float) -> None:
    await asyncio.Event().wait()


def test_a_full_wait_returns_false_when_stop_stays_unset() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    assert asyncio.run(stopped_while_waiting(asyncio.Event(), 2.5, sleep=sleep)) is False
    assert slept == [2.5]


def test_setting_stop_ends_the_wait_at_once() -> None:
    async def scenario() -> bool:
        stop = asyncio.Event()
        wait = asyncio.create_task(stopped_while_waiting(stop, 86_400, sleep=_sleep_forever))
        await asyncio.sleep(0)
        stop.set()
        return await asyncio.wait_for(wait, timeout=5)

    assert asyncio.run(scenario()) is True


@pytest.mark.parametrize(("stopped", "seconds"), [(True, 10.0), (False, 0.0), (False, -1.0)])
def test_nothing_is_awaited_when_stopped_already_or_no_time_is_left(
    stopped: bool, seconds: float
) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def scenario() -> bool:
        stop = asyncio.Event()
        if stopped:
            stop.set()
        return await stopped_while_waiting(stop, seconds, sleep=sleep)

    assert asyncio.run(scenario()) is stopped
    assert slept == []


def test_an_error_of_the_sleep_is_raised_to_the_caller() -> None:
    async def broken_sleep(seconds: float) -> None:
        raise RuntimeError("clock device gone")

    with pytest.raises(RuntimeError, match="clock device gone"):
        asyncio.run(stopped_while_waiting(asyncio.Event(), 1.0, sleep=broken_sleep))


def test_cancelling_the_caller_cancels_the_wait_and_leaves_no_task() -> None:
    async def scenario() -> set[asyncio.Task[object]]:
        wait = asyncio.create_task(
            stopped_while_waiting(asyncio.Event(), 86_400, sleep=_sleep_forever)
        )
        await asyncio.sleep(0)
        wait.cancel()
        with pytest.raises(asyncio.CancelledError):
            await wait
        return {task for task in asyncio.all_tasks() if task is not asyncio.current_task()}

    assert asyncio.run(scenario()) == set()
