"""The sampler: one sample of every product per interval, stored with its settings (SPEC 2.7).

Each tick reads the source's current state. A state that is not synchronised or
is older than 15 minutes yields a recorded gap, never a sample. Otherwise the
view is measured under the settings of that moment (read at every tick, so a
change applies from the next sample and never backwards), and the settings and
the sample are stored in one transaction.

Guarantees: a tick never raises (failures are logged with their traceback,
counted and shown in ``status()``), so one bad tick never stops sampling; the
loop blocks the event loop only to schedule, the database work runs in a thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy import Connection

from license_service.cluster.source import ClusterSource
from license_service.metering.measuring import measure
from license_service.metering.settings import MeteringSettings
from license_service.sampling.freshness import MAX_VIEW_AGE, unusable_reason
from license_service.sampling.schedule import DEFAULT_INTERVAL, interval_seconds, next_boundary
from license_service.sampling.status import SamplerStatus, TickOutcome
from license_service.store.samples import record_sample
from license_service.store.sampling_coverage import record_missed_sample
from license_service.store.settings_history import record_settings

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware UTC."""
Sleep = Callable[[float], Awaitable[None]]
"""Waits the given number of seconds (``asyncio.sleep``, or a fake in tests)."""
SettingsProvider = Callable[[], MeteringSettings]
"""Returns the metering settings in force now."""
_Counter = Literal["samples_taken", "samples_missed", "ticks_failed"]


class Transactions(Protocol):
    """What the sampler needs of the store: a transaction at a time (``store.Database``)."""

    def begin(self) -> AbstractContextManager[Connection]:
        """Open a connection in a transaction, committed when the block ends without error."""
        ...


class Sampler:
    """Samples ``source`` into ``database`` at every aligned ``interval``."""

    def __init__(
        self,
        source: ClusterSource,
        database: Transactions,
        *,
        settings: SettingsProvider,
        clock: Clock,
        interval: timedelta = DEFAULT_INTERVAL,
        sleep: Sleep = asyncio.sleep,
        max_view_age: timedelta = MAX_VIEW_AGE,
    ) -> None:
        self._source = source
        self._database = database
        self._settings = settings
        self._clock = clock
        self._interval = interval
        self._interval_seconds = interval_seconds(interval)
        self._sleep = sleep
        self._max_view_age = max_view_age
        # Ticks run in a worker thread while status() is read on the event loop.
        self._lock = threading.Lock()
        self._status = SamplerStatus(interval=interval)

    def status(self) -> SamplerStatus:
        """Return a snapshot of the sampler's state."""
        with self._lock:
            return self._status

    def take_sample(self, now: datetime) -> TickOutcome:
        """Take the sample due at ``now``, or record why not; never raises."""
        try:
            return self._tick(now)
        except Exception as exc:
            logger.exception(
                "Sampling at %s failed; sampling continues at the next interval",
                now.isoformat(),
            )
            self._update(
                last_tick_at=now,
                last_outcome="failed",
                last_error=f"sampling at {now.isoformat()} failed: {type(exc).__name__}: {exc}",
                count="ticks_failed",
            )
            return "failed"

    def take_first_sample(self, now: datetime) -> bool:
        """Take a sample at start when the view is already usable (dumps, the simulation),
        so reports and "usage now" need not wait for the first aligned instant.

        A view that is not usable yet (a collector still listing) records no gap: the
        first aligned tick decides. Returns whether a sample was stored; never raises.
        """
        try:
            usable = unusable_reason(self._source.current(), now, max_age=self._max_view_age)
        except Exception:
            logger.exception("Reading the cluster view at start failed")
            return False
        return usable is None and self.take_sample(now) == "sampled"

    async def run(self, stop: asyncio.Event) -> None:
        """Sample at every aligned interval boundary until ``stop`` is set."""
        logger.info("Sampling every %d s", self._interval_seconds)
        if stop.is_set():
            return
        first = self._clock().replace(microsecond=0)
        sampled = await asyncio.to_thread(self.take_first_sample, first)
        previous: datetime | None = first if sampled else None
        while not stop.is_set():
            now = self._clock()
            due = next_boundary(now, self._interval)
            if previous is not None:
                if due <= previous:
                    # The clock has not passed the last sample yet (it woke early).
                    due = previous + self._interval
                elif due - previous > self._interval:
                    skipped = (due - previous) // self._interval - 1
                    logger.warning(
                        "Skipped %d sampling instant(s) after %s: the previous sample took "
                        "longer than the interval or the process was paused",
                        skipped,
                        previous.isoformat(),
                    )
            if await self._stopped_while_waiting(stop, (due - now).total_seconds()):
                break
            await asyncio.to_thread(self.take_sample, due)
            previous = due
        logger.info("Sampling stopped")

    def _tick(self, now: datetime) -> TickOutcome:
        state = self._source.current()
        self._update(source=state.source, synced=state.synced, last_tick_at=now)
        reason = unusable_reason(state, now, max_age=self._max_view_age)
        if reason is not None:
            with self._database.begin() as connection:
                record_missed_sample(connection, cluster_id=state.cluster_id, at=now, reason=reason)
            logger.warning("No sample at %s: %s", now.isoformat(), reason)
            self._update(
                last_outcome="missed",
                last_error=f"no sample at {now.isoformat()}: {reason}",
                count="samples_missed",
            )
            return "missed"
        settings = self._settings()
        measurement = measure(state.view, settings)
        with self._database.begin() as connection:
            changed = record_settings(
                connection, cluster_id=state.cluster_id, at=now, settings=settings
            )
            record_sample(
                connection,
                cluster_id=state.cluster_id,
                taken_at=now,
                measurement=measurement,
                interval_seconds=self._interval_seconds,
            )
        if changed:
            logger.info("Metering settings in force from %s: %s", now.isoformat(), settings)
        self._update(
            last_outcome="sampled",
            last_sample_at=now,
            last_error=None,
            count="samples_taken",
            last_measurement=measurement,
        )
        return "sampled"

    def _update(self, *, count: _Counter | None = None, **changes: Any) -> None:
        with self._lock:
            if count is not None:
                changes[count] = getattr(self._status, count) + 1
            self._status = replace(self._status, **changes)

    async def _stopped_while_waiting(self, stop: asyncio.Event, seconds: float) -> bool:
        """Wait ``seconds`` with the injected sleep; return early (True) when ``stop`` is set."""
        if seconds > 0:
            sleeper = asyncio.ensure_future(self._sleep(seconds))
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
