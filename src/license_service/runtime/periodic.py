"""Background jobs that repeat (file watchers, the prune job) until the service stops.

``run_periodically`` runs a blocking action in a worker thread, so file reads and
database work never block the event loop. A failing action is logged with its
traceback and tried again at the next period: one bad read never ends a watcher.
Setting the stop event ends the wait at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Final

logger = logging.getLogger(__name__)

# A new token is used within 5 s of a change (SPEC 4.3): a check every second is well inside.
WATCH_EVERY_SECONDS: Final = 1.0

Job = Coroutine[Any, Any, None]
"""A background job of the running service."""

Sleep = Callable[[float], Awaitable[None]]
"""Waits the given number of seconds (``asyncio.sleep``, or a fake in tests)."""


async def run_periodically(
    action: Callable[[], object],
    *,
    every: float,
    stop: asyncio.Event,
    name: str,
    sleep: Sleep = asyncio.sleep,
) -> None:
    """Run ``action`` now and then every ``every`` seconds until ``stop`` is set; never raises.

    ``name`` says what the action does, for the log (e.g. "watching the config file").
    """
    while not stop.is_set():
        try:
            await asyncio.to_thread(action)
        except Exception:
            logger.exception("%s failed; trying again in %g s", name.capitalize(), every)
        if await stopped_while_waiting(stop, every, sleep=sleep):
            break


async def stopped_while_waiting(stop: asyncio.Event, seconds: float, *, sleep: Sleep) -> bool:
    """Wait ``seconds`` with ``sleep``; return early (True) when ``stop`` is set."""
    if stop.is_set():
        return True
    sleeper = asyncio.ensure_future(sleep(seconds))
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((sleeper, stopper), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeper, stopper):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(sleeper, stopper, return_exceptions=True)
    return stop.is_set()
