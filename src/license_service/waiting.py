"""Waiting that a stop cuts short: the one pause of every loop that runs until stopped.

The sampler, the periodic jobs and the watchdog of the Kubernetes watches all wait
between rounds and must end at once when the service stops. ``stopped_while_waiting``
is that wait, written once; it sits at the bottom of the layers (beside ``errors``) so
every package may import it. The sleep is a parameter: tests pass a fake one, so no
test waits in real time.

Guarantees: the wait ends as soon as ``stop`` is set; an error raised by ``sleep`` is
raised to the caller, never swallowed (a loop over a broken sleep would spin); a
cancellation of the caller is never swallowed either, and leaves no task behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

Sleep = Callable[[float], Awaitable[None]]
"""Waits the given number of seconds (``asyncio.sleep``, or a fake in tests)."""


async def stopped_while_waiting(stop: asyncio.Event, seconds: float, *, sleep: Sleep) -> bool:
    """Wait ``seconds`` with ``sleep``, or less if ``stop`` is set first; return whether it is set.

    Nothing is awaited when ``stop`` is already set or ``seconds`` is not positive.
    """
    if stop.is_set() or seconds <= 0:
        return stop.is_set()
    sleeper = asyncio.ensure_future(sleep(seconds))
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((sleeper, stopper), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeper, stopper):
            task.cancel()
        await asyncio.gather(sleeper, stopper, return_exceptions=True)
    if not sleeper.cancelled() and (error := sleeper.exception()) is not None:
        raise error
    return stop.is_set()
