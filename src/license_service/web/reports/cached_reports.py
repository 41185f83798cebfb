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
one PostgreSQL) are seen only through ``Database.notify_other_replicas``; without it
each process's cache follows its own writes.

License Service's reports use it through ``CachedReports.of_app`` (one cluster, its
store's period peaks); the Reporter's (``web.reporter.fleet_reports``) give their own
``BodiesRead`` (the fleet's sums, the cluster list) and ask per cluster filter.
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
from typing import Any, Final, Protocol

import anyio
import anyio.to_thread

from license_service.errors import LicenseServiceError
from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DEFAULT_PERIOD_DAYS, MAX_PERIOD_DAYS, DatePeriod
from license_service.store.database import Database
from license_service.web.app_state import AppState
from license_service.web.reports.period_parameters import ReportFormat, ReportQuery
from license_service.web.reports.report_bodies import Report, report_bodies
from license_service.web.reports.report_cache import BodyCache, BodyKey

logger = logging.getLogger(__name__)

MAX_READERS: Final = 4
WANTED_FOR_SECONDS: Final = 3600.0
MAX_WANTED: Final = 16

_Started = tuple[BodyKey, int]


class NamedReport(Protocol):
    """What the cache needs of a report: its name (in the key) and path (in messages)."""

    @property
    def name(self) -> str: ...

    @property
    def path(self) -> str: ...


class BodiesRead(Protocol):
    """Reads a report's body in each of ``formats`` in one read; blocking (a worker thread)."""

    def __call__(
        self,
        report: Any,
        *,
        cluster_id: str | None,
        period: DatePeriod,
        metric: str | None,
        formats: Collection[ReportFormat],
    ) -> dict[ReportFormat, bytes]: ...


@dataclass(frozen=True, slots=True)
class _Wanted:
    """A body to compute again after each write: a period of ``days`` ending today."""

    report: NamedReport
    cluster_id: str | None
    metric: str | None
    format: ReportFormat
    days: int


_Group = tuple[NamedReport, str | None, str | None, int]
"""Wanted bodies computed together: report, cluster, metric, days."""


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
        database: Database,
        read: BodiesRead,
        *,
        today: Callable[[], date],
        longest_days: Callable[[], int],
        cluster_id: str | None = None,
        cache: BodyCache | None = None,
        max_readers: int = MAX_READERS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Bodies ``read`` from ``database``, of ``cluster_id`` unless a request names one;
        warmed for the periods of ``longest_days`` ending ``today()``; registers for writes."""
        self._database = database
        self._read = read
        self._today = today
        self._longest = longest_days
        self._cluster_id = cluster_id
        self._cache = cache or BodyCache(lambda: database.data_version)
        self._max_readers = max_readers
        self._monotonic = monotonic
        self._wanted: OrderedDict[_Wanted, float] = OrderedDict()
        self._parts: _LoopParts | None = None
        database.add_write_listener(self._data_written)

    @classmethod
    def of_app(
        cls,
        state: AppState,
        *,
        cache: BodyCache | None = None,
        max_readers: int = MAX_READERS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> CachedReports:
        """License Service's reports of ``state``: its cluster's period peaks."""
        database = state.database

        def read(
            report: Report[Any],
            *,
            cluster_id: str | None,
            period: DatePeriod,
            metric: str | None,
            formats: Collection[ReportFormat],
        ) -> dict[ReportFormat, bytes]:
            cluster = ClusterId(cluster_id or state.cluster_id)
            return report_bodies(
                database, report, cluster_id=cluster, period=period, metric=metric, formats=formats
            )

        return cls(
            database,
            read,
            today=state.today,
            longest_days=lambda: min(state.retention_peak_days, MAX_PERIOD_DAYS),
            cluster_id=state.cluster_id,
            cache=cache,
            max_readers=max_readers,
            monotonic=monotonic,
        )

    async def body(
        self,
        report: NamedReport,
        query: ReportQuery,
        *,
        today: date,
        cluster_id: str | None = None,
    ) -> bytes:
        """The body of ``report`` for ``query`` (read ``today``) and ``cluster_id`` (default:
        the one given at construction): kept, or computed once."""
        cluster = cluster_id if cluster_id is not None else self._cluster_id
        key = BodyKey(report.name, cluster, query.period, query.metric, query.format)
        self._note_wanted(report, cluster, query, today=today)
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

    def _note_wanted(
        self, report: NamedReport, cluster_id: str | None, query: ReportQuery, *, today: date
    ) -> None:
        period = query.period
        if period.last != today or period.days not in (DEFAULT_PERIOD_DAYS, self._longest()):
            return
        wanted = _Wanted(report, cluster_id, query.metric, query.format, period.days)
        self._wanted[wanted] = self._monotonic()
        self._wanted.move_to_end(wanted)
        while len(self._wanted) > MAX_WANTED:
            self._wanted.popitem(last=False)

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
        self, parts: _LoopParts, report: NamedReport, keys: Iterable[BodyKey]
    ) -> list[asyncio.Future[bytes]]:
        """The futures of ``keys`` (same report, cluster, period and metric): joined, or started."""
        version = self._database.data_version
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
        report: NamedReport,
        futures: dict[BodyKey, asyncio.Future[bytes]],
        version: int,
    ) -> None:
        first = next(iter(futures))
        formats: Collection[ReportFormat] = {key.format for key in futures}
        read = functools.partial(
            self._read,
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
            version = self._database.data_version
            for (report, cluster_id, metric, days), formats in self._wanted_now().items():
                period = DatePeriod.ending(self._today(), days=days)
                keys = [
                    BodyKey(report.name, cluster_id, period, metric, format)
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
            if not parts.warm_again and version == self._database.data_version:
                return
            if not self._database.hears_writes:
                # Every read counts as after a write until the notifications are heard
                # again: going round once more would recompute the same bodies for ever.
                return

    def _wanted_now(self) -> dict[_Group, set[ReportFormat]]:
        since = self._monotonic() - WANTED_FOR_SECONDS
        groups: dict[_Group, set[ReportFormat]] = {}
        for wanted, asked_at in list(self._wanted.items()):
            if asked_at < since:
                del self._wanted[wanted]
                continue
            group = (wanted.report, wanted.cluster_id, wanted.metric, wanted.days)
            groups.setdefault(group, set()).add(wanted.format)
        return groups


def _retrieve_exception(future: asyncio.Future[bytes]) -> None:
    # A computation nobody waits for any more must not log "exception never retrieved".
    if not future.cancelled():
        future.exception()
