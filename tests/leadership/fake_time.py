"""Virtual time for the election loop: a monotonic clock, a wall clock and a sleep that
wake in order when a test advances time; nothing waits in real time."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

T = TypeVar("T")
START = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


class FakeTime:
    """Seconds since the test began; sleepers wake when ``advance`` passes their instant."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def monotonic(self) -> float:
        """The monotonic clock."""
        return self.now

    def wall(self) -> datetime:
        """The wall clock (UTC)."""
        return START + timedelta(seconds=self.now)

    async def sleep(self, seconds: float) -> None:
        """Wait until the test advanced time by ``seconds``."""
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), woken))
        await woken

    async def advance(self, seconds: float) -> None:
        """Let time pass, waking each sleeper at its instant, in order."""
        end = self.now + seconds
        while True:
            await _settle()
            while self._sleepers and self._sleepers[0][2].done():
                heapq.heappop(self._sleepers)
            if not self._sleepers or self._sleepers[0][0] > end:
                self.now = end
                await _settle()
                return
            when, _, woken = heapq.heappop(self._sleepers)
            self.now = max(self.now, when)
            woken.set_result(None)


async def inline(call: Callable[[], T]) -> T:
    """Run a blocking call on the loop itself (the fake store never blocks)."""
    return call()


async def _settle() -> None:
    for _ in range(50):
        await asyncio.sleep(0)
