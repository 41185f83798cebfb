"""Report bodies for the API: from the cache on the event loop, else computed once per key.

``CachedReports.body`` answers a report request:

- a hit (``report_cache.BodyCache``: same report, cluster, resolved period, metric and
  format, and no write to the store since) is answered on the event loop, with no
  worker thread and no database connection;
- a miss reads the store in a worker thread (``reports.report_bodies``). Concurrent
  misses of one key at one data version share a single computation (single-flight),
  and at most ``max_readers`` computations run at once, so report requests never
  take more pooled connections than that; the others wait on the event loop,
  holding nothing;
- after each write to the store (``Database.add_write_listener``), the bodies of
  the default period and of the longest period (both ending today) that clients
  asked for in the last hour are computed again in the background, each report's
  store query once for all its wanted formats: a client asking right after a sample
  waits for at most the rest of that computation instead of paying a miss.

Bodies are byte for byte those of an uncached request: the same functions make them.
The default period resolves against today (UTC), and the key holds the resolved
period, so a new day is a new key. Writes by another process (a second replica on
one PostgreSQL) are not seen: each process's cache follows its own writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import anyio
import anyio.to_thread

from license_service.errors import LicenseServiceError
from license_service.metering.periods import DEFAULT_PERIOD_DAYS, MAX_PERIOD_DAYS, DatePeriod
from license_service.web.app_state import AppState
from license_service.web.reports.period_parameters import ReportFormat, ReportQuery
from license_service.web.reports.report_bodies import Report, report_bodies
from license_service.web.reports.report_cache import BodyCache, BodyKey

logger = logging.getLogger(__name__)

MAX_READERS: Final = 4
WANTED_FOR_SECONDS: Final = 3600.0
MAX_WANTED: Final = 16

_Started = tuple[BodyKey, int]


@dataclass(frozen=True, slots=True)
class _Wanted:
    """A body to compute again after each write: a period of ``days`` ending today."""

    report: Report[Any]
    metric: str | None
    format: ReportFormat
    days: int


@dataclass
class _LoopParts:
    """What belongs to one event loop: the readers' limiter and the computations under way."""

    loop: asyncio.AbstractEventLoop
    readers: anyio.CapacityLimiter
    started: dict[_Started, asyncio.Future[bytes]] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    warming: asyncio.Task[None] | None = None
    warm_again: bool = False


class CachedReports:
    """The bodies of the report endpoints of one app, cached until the store is written."""

    def __init__(
        self,
        state: AppState,
        *,
        cache: BodyCache | None = None,
        max_readers: int = MAX_READERS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Serve the reports of ``state``; register for its database's writes."""
        database = state.database
        self._state = state
        self._cache = cache or BodyCache(lambda: database.data_version)
        self._max_readers = max_readers
        self._monotonic = monotonic
        self._wanted: OrderedDict[_Wanted, float] = OrderedDict()
        self._parts: _LoopParts | None = None
        database.add_write_listener(self._data_written)

    async def body(self, report: Report[Any], query: ReportQuery, *, today: date) -> bytes:
        """The body of ``report`` for ``query`` (read ``today``): kept, or computed once."""
        key = BodyKey(report.name, self._state.cluster_id, query.period, query.metric, query.format)
        self._note_wanted(report, query, today=today)
        kept = self._cache.get(key)
        if kept is not None:
            return kept
        parts = self._loop_parts()
        (future,) = self._start(parts, report, [key])
        return await asyncio.shield(future)

    async def wait_for_warming(self) -> None:
        """Return when no background recomputation is under way (for tests)."""
        parts = self._loop_parts()
        while parts.warming is not None and not parts.warming.done():
            await asyncio.shield(parts.warming)

    def _note_wanted(self, report: Report[Any], query: ReportQuery, *, today: date) -> None:
        period = query.period
        if period.last != today or period.days not in (DEFAULT_PERIOD_DAYS, self._longest_days):
            return
        wanted = _Wanted(report, query.metric, query.format, period.days)
        self._wanted[wanted] = self._monotonic()
        self._wanted.move_to_end(wanted)
        while len(self._wanted) > MAX_WANTED:
            self._wanted.popitem(last=False)

    @property
    def _longest_days(self) -> int:
        return min(self._state.retention_peak_days, MAX_PERIOD_DAYS)

    def _loop_parts(self) -> _LoopParts:
        loop = asyncio.get_running_loop()
        parts = self._parts
        if parts is None or parts.loop is not loop:
            # A new loop (tests start one per client): futures and limiters of the old
            # one cannot be awaited here.
            parts = _LoopParts(loop, anyio.CapacityLimiter(self._max_readers))
            self._parts = parts
        return parts

    def _start(
        self, parts: _LoopParts, report: Report[Any], keys: Iterable[BodyKey]
    ) -> list[asyncio.Future[bytes]]:
        """The futures of ``keys`` (same report, period and metric): joined, or started."""
        version = self._state.database.data_version
        futures: list[asyncio.Future[bytes]] = []
        new: dict[BodyKey, asyncio.Future[bytes]] = {}
        for key in keys:
            future = parts.started.get((key, version))
            if future is None:
                future = parts.loop.create_future()
                future.add_done_callback(_retrieve_exception)
                parts.started[(key, version)] = future
                new[key] = future
            futures.append(future)
        if new:
            task = parts.loop.create_task(self._compute(parts, report, new, version))
            parts.tasks.add(task)
            task.add_done_callback(parts.tasks.discard)
        return futures

    async def _compute(
        self,
        parts: _LoopParts,
        report: Report[Any],
        futures: dict[BodyKey, asyncio.Future[bytes]],
        version: int,
    ) -> None:
        first = next(iter(futures))
        formats: Collection[ReportFormat] = {key.format for key in futures}
        read = functools.partial(
            report_bodies,
            self._state.database,
            report,
            cluster_id=first.cluster_id,
            period=first.period,
            metric=first.metric,
            formats=formats,
        )
        try:
            bodies = await anyio.to_thread.run_sync(read, limiter=parts.readers)
        except asyncio.CancelledError:
            for future in futures.values():
                future.cancel()
            raise
        except Exception as exc:
            for future in futures.values():
                future.set_exception(exc)
        else:
            for key, future in futures.items():
                body = bodies[key.format]
                self._cache.put(key, body, version=version)
                future.set_result(body)
        finally:
            for key in futures:
                parts.started.pop((key, version), None)

    def _data_written(self) -> None:
        # Called in the writer's thread: hand over to the loop that serves requests.
        parts = self._parts
        if parts is None or not self._wanted:
            return
        with contextlib.suppress(RuntimeError):  # that loop has closed: nothing to warm
            parts.loop.call_soon_threadsafe(self._warm_soon, parts)

    def _warm_soon(self, parts: _LoopParts) -> None:
        if parts.warming is not None and not parts.warming.done():
            parts.warm_again = True
            return
        parts.warming = parts.loop.create_task(self._warm(parts))

    async def _warm(self, parts: _LoopParts) -> None:
        while True:
            parts.warm_again = False
            version = self._state.database.data_version
            for (report, metric, days), formats in self._wanted_now().items():
                period = DatePeriod.ending(self._state.today(), days=days)
                keys = [
                    BodyKey(report.name, self._state.cluster_id, period, metric, format)
                    for format in sorted(formats)
                ]
                if all(self._cache.get(key) is not None for key in keys):
                    continue
                # One at a time: warming must not take every reader from the clients.
                futures = self._start(parts, report, keys)
                try:
                    await asyncio.gather(*(asyncio.shield(future) for future in futures))
                except LicenseServiceError as exc:
                    logger.warning("Could not compute %s again after a write: %s", report.path, exc)
                except Exception:
                    logger.exception("Could not compute %s again after a write", report.path)
            if not parts.warm_again and version == self._state.database.data_version:
                return

    def _wanted_now(self) -> dict[tuple[Report[Any], str | None, int], set[ReportFormat]]:
        since = self._monotonic() - WANTED_FOR_SECONDS
        groups: dict[tuple[Report[Any], str | None, int], set[ReportFormat]] = {}
        for wanted, asked_at in list(self._wanted.items()):
            if asked_at < since:
                del self._wanted[wanted]
                continue
            groups.setdefault((wanted.report, wanted.metric, wanted.days), set()).add(wanted.format)
        return groups


def _retrieve_exception(future: asyncio.Future[bytes]) -> None:
    # A computation nobody waits for any more must not log "exception never retrieved".
    if not future.cancelled():
        future.exception()
