"""The sampler: one sample of every product per interval, stored with its settings (SPEC 2.7).

Each tick reads the source's current state. A state that is not synchronised or
is older than 15 minutes yields a recorded gap, never a sample. Otherwise the
view is measured under the settings of that moment (read at every tick, so a
change applies from the next sample and never backwards), and the settings and
the sample are stored in one transaction.

Guarantees: a tick never raises (failures are logged with their traceback,
counted and shown in ``status()``), so one bad tick never stops sampling; the
loop blocks the event loop only to schedule, the database work runs in a thread.

Time is the injected clock's, and it may jump:

- No sample is stored at or before the newest stored one: under a clock set back
  (even across a restart) such a tick fails and says why, so no instant is sampled
  twice and no day in the past receives today's usage (at start, after a restart
  within the same second, the first sample is merely left out). While the clock
  reads earlier than the last sample, the loop waits an interval at a time and
  looks again, so a corrected clock resumes sampling at once.
- When the clock jumps forward (or the process was paused), the instants passed
  over are not sampled after the fact: the next sample is taken at the latest
  instant reached, the skipped ones are logged and recorded as one missed sample
  with the reason, so reports show the gap.
- Ticks that fail to store (disk full, database down) leave a hole in the coverage;
  once the store works again their reason is recorded as one missed sample in the
  transaction of the next tick, so the gap says why. Until then the reasons are kept
  in the data directory too (``unrecorded_misses``), so a restart does not lose them.

With several replicas (SPEC 12) only the leader samples: ``may_store`` is checked
in the transaction, right before anything is written, so a replica that lost the
lease while measuring stores nothing (the tick is left out, not counted as failed);
``leader_changes`` records the instants missed while the leader changed.

Missed instants are counted as every report counts them (``store.missed_instants``):
``samples_missed`` in the status adds one for a tick that stored nothing (source
unusable, store failing) and the instants a clock jump skipped.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, Protocol

from sqlalchemy import Connection

from license_service.cluster.source import ClusterSource
from license_service.errors import LicenseServiceError, StorageError
from license_service.metering.chargeback_groups import namespace_groups
from license_service.metering.cluster_view import ClusterId
from license_service.metering.measuring import measure, measure_in_groups
from license_service.metering.settings import MeteringSettings
from license_service.metering.settings_text import settings_changes, settings_text
from license_service.sampling.freshness import MAX_VIEW_AGE, unusable_reason
from license_service.sampling.peak_explanations import keep_peak_explanations
from license_service.sampling.schedule import DEFAULT_INTERVAL, interval_seconds, next_boundary
from license_service.sampling.status import SamplerStatus, TickOutcome
from license_service.sampling.unrecorded_misses import MAX_ERROR, UnrecordedMiss, UnrecordedMisses
from license_service.store.missed_instants import missed_instants
from license_service.store.samples import record_sample
from license_service.store.sampling_coverage import last_sampled_at, record_missed_sample
from license_service.store.settings_history import (
    in_force_since,
    record_settings,
    settings_history,
)
from license_service.waiting import Sleep, stopped_while_waiting

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware UTC."""
SettingsProvider = Callable[[], MeteringSettings]
"""Returns the metering settings in force now."""
ChargebackSwitch = Callable[[], bool]
"""Returns whether chargeback groups are measured now (``spec.chargebackEnabled``)."""
_Counter = Literal["samples_taken", "samples_missed", "ticks_failed"]
# How far the clock may read before the last sample before it counts as set back
# (a sleep may end a little early).
CLOCK_TOLERANCE: Final = timedelta(seconds=1)
# Unstored reasons kept in memory while the store fails: a bound, not a working size.
_MAX_UNRECORDED: Final = 100


class _AlreadySampled(LicenseServiceError):
    """A sample at or after the tick's instant is stored already: the clock was set back."""


class _NotLeading(LicenseServiceError):
    """This replica stopped leading while the tick measured: another one samples."""


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
        kept_misses: UnrecordedMisses | None = None,
        may_store: Callable[[], bool] | None = None,
        chargeback: ChargebackSwitch = lambda: False,
    ) -> None:
        """``kept_misses`` keeps the reasons the store has not taken yet across restarts;
        ``may_store`` (the leader election's gate) says whether this replica may write;
        ``chargeback`` says, at each tick, whether groups are measured and stored too."""
        self._may_store = may_store
        self._source = source
        self._database = database
        self._settings = settings
        self._chargeback = chargeback
        self._clock = clock
        self._interval = interval
        self._interval_seconds = interval_seconds(interval)
        self._sleep = sleep
        self._max_view_age = max_view_age
        # Ticks run in a worker thread while status() is read on the event loop.
        self._lock = threading.Lock()
        self._status = SamplerStatus(interval=interval)
        # Touched by the ticks only, which run one at a time.
        self._kept_misses = kept_misses
        self._unrecorded: list[UnrecordedMiss] = []
        if kept_misses is not None:
            self._unrecorded = kept_misses.load()
            kept_misses.reserve()  # now, while the disk has room for it
        if self._unrecorded:
            logger.info(
                "%d reason(s) of missed samples from before the restart are recorded with the "
                "next sample",
                len(self._unrecorded),
            )
        self._settings_logged: MeteringSettings | None = None

    def status(self) -> SamplerStatus:
        """Return a snapshot of the sampler's state."""
        with self._lock:
            return self._status

    def take_sample(self, now: datetime) -> TickOutcome:
        """Take the sample due at ``now``, or record why not; never raises."""
        outcome = self._take(now, at_start=False)
        # Only a start tick ends without an outcome (a sample was stored already).
        return outcome or "failed"

    def take_first_sample(self, now: datetime) -> bool:
        """Take a sample at start when the view is already usable (dumps, the simulation),
        so reports and "usage now" need not wait for the first aligned instant.

        A view that is not usable yet (a collector still listing) records no gap: the
        first aligned tick decides. Nor is a sample taken when one at or after ``now`` is
        stored already (a restart within the same second). Returns whether a sample was
        stored; never raises.
        """
        try:
            usable = unusable_reason(self._source.current(), now, max_age=self._max_view_age)
        except Exception:
            logger.exception("Reading the cluster view at start failed")
            return False
        return usable is None and self._take(now, at_start=True) == "sampled"

    def _take(self, now: datetime, *, at_start: bool) -> TickOutcome | None:
        try:
            return self._tick(now)
        except _NotLeading as exc:
            logger.info("No sample at %s: %s", now.isoformat(), exc)
            return None if at_start else "failed"
        except _AlreadySampled as exc:
            if at_start:
                logger.info("No sample at start, %s: %s", now.isoformat(), exc)
                # Not a tick: /health must not count it as one without a sample.
                self._update(last_tick_at=None)
                return None
            logger.warning("No sample at %s: %s", now.isoformat(), exc)
            error = f"no sample at {_utc_text(now)}: {exc}"
        except Exception as exc:
            if isinstance(exc, StorageError):
                # An expected outage (the database is down or full): its message says it all.
                logger.warning(
                    "Sampling at %s failed; sampling continues at the next interval: %s",
                    now.isoformat(),
                    _error_text(exc),
                )
            else:
                logger.exception(
                    "Sampling at %s failed; sampling continues at the next interval",
                    now.isoformat(),
                )
            cause = _error_text(exc)
            self._remember_failure(now, cause)
            error = f"the sample due at {_utc_text(now)} was not stored: {cause}"
            # An instant without a sample, like a missed tick (ticks_failed counts it too).
            self._update(count="samples_missed")
        self._update(
            last_tick_at=now, last_outcome="failed", last_error=error, count="ticks_failed"
        )
        return "failed"

    async def run(self, stop: asyncio.Event) -> None:
        """Sample at every aligned interval boundary until ``stop`` is set."""
        logger.info("Sampling every %d s", self._interval_seconds)
        if stop.is_set():
            return
        first = self._clock().replace(microsecond=0)
        sampled = await asyncio.to_thread(self.take_first_sample, first)
        previous: datetime | None = first if sampled else None
        set_back = False
        while not stop.is_set():
            now = self._clock()
            if previous is not None and now < previous - CLOCK_TOLERANCE:
                if not set_back:
                    logger.warning(
                        "The clock reads %s, before the last sample at %s: it was set back. "
                        "No sample is taken until it passes that instant again",
                        now.isoformat(),
                        previous.isoformat(),
                    )
                set_back = True
                self._update(next_sample_at=None)
                # An interval at a time: a clock corrected meanwhile resumes sampling at once.
                wait = min(self._interval, previous - now).total_seconds()
                if await stopped_while_waiting(stop, wait, sleep=self._sleep):
                    break
                continue
            set_back = False
            due = next_boundary(now, self._interval)
            if previous is not None and due <= previous:
                # The clock has not passed the last sample yet (it woke early).
                due = previous + self._interval
            # Said on /health and /status: a change in the cluster is counted then.
            self._update(next_sample_at=due)
            if await stopped_while_waiting(stop, (due - now).total_seconds(), sleep=self._sleep):
                break
            late = self._clock() - due
            if late < -CLOCK_TOLERANCE:
                # The clock was set back while waiting: ``due`` has not come; look again.
                continue
            if late >= self._interval:
                # The clock jumped forward while waiting, or the process was paused: sample
                # at the latest instant reached, not at one long past.
                due += late // self._interval * self._interval
            if previous is not None:
                self._note_skipped(previous, due)
            await asyncio.to_thread(self.take_sample, due)
            previous = due
        logger.info("Sampling stopped")

    def _tick(self, now: datetime) -> TickOutcome:
        state = self._source.current()
        self._update(source=state.source, synced=state.synced, last_tick_at=now)
        reason = unusable_reason(state, now, max_age=self._max_view_age)
        if reason is not None:
            with self._database.begin() as connection:
                if self._may_store is not None and not self._may_store():
                    raise _NotLeading("this replica no longer leads; the leader samples")
                self._record_unrecorded(connection, state.cluster_id)
                record_missed_sample(connection, cluster_id=state.cluster_id, at=now, reason=reason)
            self._forget_unrecorded()
            logger.warning("No sample at %s: %s", now.isoformat(), reason)
            self._update(
                last_outcome="missed",
                last_error=f"no sample at {_utc_text(now)}: {reason}",
                count="samples_missed",
            )
            return "missed"
        settings = self._settings()
        groups = None
        group_of: Mapping[str, str] = {}
        if self._chargeback():
            # Groups as labelled in this view: a label change counts from this sample on.
            group_of = namespace_groups(state.view).group_of
            grouped = measure_in_groups(state.view, settings, group_of)
            measurement, groups = grouped.cluster, grouped.groups
        else:
            measurement = measure(state.view, settings)
        excluded_since = self.status().excluded_namespaces_since
        with self._database.begin() as connection:
            if self._may_store is not None and not self._may_store():
                raise _NotLeading("this replica no longer leads; the leader samples")
            latest = last_sampled_at(connection, cluster_id=state.cluster_id)
            if latest is not None and latest >= now:
                raise _AlreadySampled(
                    f"a sample at {_utc_text(latest)} is stored already: the clock was set "
                    "back (or another instance samples this cluster); sampling resumes once "
                    "the clock passes that instant"
                )
            self._record_unrecorded(connection, state.cluster_id)
            changed = record_settings(
                connection, cluster_id=state.cluster_id, at=now, settings=settings
            )
            record_sample(
                connection,
                cluster_id=state.cluster_id,
                taken_at=now,
                measurement=measurement,
                interval_seconds=self._interval_seconds,
                groups=groups,
            )
            keep_peak_explanations(
                connection,
                cluster_id=state.cluster_id,
                taken_at=now,
                view=state.view,
                settings=settings,
                measurement=measurement,
                groups=groups,
                group_of=group_of,
            )
            if changed or excluded_since is None:
                # SPEC 8: when the excludeNamespace in force began, for /health and /status.
                history = settings_history(connection, cluster_id=state.cluster_id, until=now)
                excluded_since = in_force_since(history, lambda s: s.excluded_namespaces)
        self._forget_unrecorded()
        if changed:
            self._log_settings(settings, since=now)
        self._update(
            last_outcome="sampled",
            last_sample_at=now,
            last_error=None,
            count="samples_taken",
            last_measurement=measurement,
            last_groups=groups or {},
            excluded_namespaces_since=excluded_since,
        )
        return "sampled"

    def _log_settings(self, settings: MeteringSettings, *, since: datetime) -> None:
        """Say which settings apply from ``since``, and what changed since the last ones."""
        before, self._settings_logged = self._settings_logged, settings
        changes = settings_changes(before, settings) if before is not None else []
        if changes:
            logger.info(
                "Metering settings changed from %s on: %s (now %s)",
                since.isoformat(),
                "; ".join(changes),
                settings_text(settings),
            )
        else:
            logger.info(
                "Metering settings in force from %s: %s", since.isoformat(), settings_text(settings)
            )

    def _note_skipped(self, previous: datetime, due: datetime) -> None:
        """Log the instants missed between ``previous`` and ``due``, count them, keep them."""
        skipped = missed_instants(previous, due, interval_seconds=self._interval_seconds)
        if not skipped:
            return
        first, last = previous + self._interval, previous + skipped * self._interval
        logger.warning(
            "Skipped %d sampling instant(s) from %s to %s: the clock jumped forward, the "
            "service was paused or the previous sample took longer than the interval",
            skipped,
            first.isoformat(),
            last.isoformat(),
        )
        with self._lock:
            self._status = replace(
                self._status, samples_missed=self._status.samples_missed + skipped
            )
        self._keep(UnrecordedMiss("skipped", first, last, skipped))

    def _remember_failure(self, at: datetime, error: str) -> None:
        """Count the failed tick at ``at`` in the current stretch of failures."""
        error = error[:MAX_ERROR]
        latest = self._unrecorded[-1] if self._unrecorded else None
        if latest is not None and latest.kind == "failed":
            self._unrecorded[-1] = replace(latest, last=at, count=latest.count + 1, error=error)
            self._keep_on_disk()
        else:
            self._keep(UnrecordedMiss("failed", at, at, 1, error))

    def _keep(self, unrecorded: UnrecordedMiss) -> None:
        if len(self._unrecorded) >= _MAX_UNRECORDED:
            dropped = self._unrecorded.pop(0)
            logger.warning("Not recording the missed samples (%s): too many", dropped.reason())
        self._unrecorded.append(unrecorded)
        self._keep_on_disk()

    def _keep_on_disk(self) -> None:
        if self._kept_misses is not None:
            self._kept_misses.save(self._unrecorded)

    def _forget_unrecorded(self) -> None:
        """The store has the reasons (the transaction that recorded them committed)."""
        if self._unrecorded:
            self._unrecorded.clear()
            self._keep_on_disk()

    def _record_unrecorded(self, connection: Connection, cluster_id: ClusterId) -> None:
        """Store the reasons kept while the store failed, each at its first instant."""
        for unrecorded in self._unrecorded:
            record_missed_sample(
                connection, cluster_id=cluster_id, at=unrecorded.first, reason=unrecorded.reason()
            )

    def _update(self, *, count: _Counter | None = None, **changes: Any) -> None:
        with self._lock:
            if count is not None:
                changes[count] = getattr(self._status, count) + 1
            self._status = replace(self._status, **changes)


def _error_text(error: Exception) -> str:
    """The first line of ``error``'s message (our errors), with its class (any other)."""
    lines = str(error).splitlines()
    text = lines[0] if lines else ""
    if isinstance(error, LicenseServiceError) and text:
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _utc_text(instant: datetime) -> str:
    """``instant`` as ISO 8601 in UTC with a ``Z``, as the API writes instants."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
