"""Background jobs that repeat (file watchers, the prune job) until the service stops.

``run_periodically`` runs a blocking action in a worker thread, so file reads and
database work never block the event loop. A failing action is logged with its
traceback and tried again at the next period: one bad read never ends a watcher.
Setting the stop event ends the wait at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Final

from license_service.waiting import Sleep, stopped_while_waiting

logger = logging.getLogger(__name__)

# A new token is used within 5 s of a change (SPEC 4.3): a check every second is well inside.
WATCH_EVERY_SECONDS: Final = 1.0

Job = Coroutine[Any, Any, None]
"""A background job of the running service."""


async def run_periodically(
    action: Callable[[], object],
    *,
    every: float,
    stop: asyncio.Event,
    name: str,
    sleep: Sleep = asyncio.sleep,
) -> None:
    """Run ``action`` now and then every ``every`` seconds until ``stop`` is set.

    A failing ``action`` is logged, never raised. ``name`` says what the action does, for
    the log (e.g. "watching the config file").
    """
    while not stop.is_set():
        try:
            await asyncio.to_thread(action)
        except Exception:
            logger.exception("%s failed; trying again in %g s", name.capitalize(), every)
        if await stopped_while_waiting(stop, every, sleep=sleep):
            break
