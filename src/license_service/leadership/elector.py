"""The election loop of one replica: acquire the Lease, renew it, step down, release it.

``LeaderElector.run`` reads the Lease every 2 s while another replica holds it
(``FOLLOWER_LOOK``), and tries for it as soon as the claim it saw expires. Once it
holds it, it starts ``lead`` (the leader's jobs) with an event that asks them to end,
and renews every retry period (5 s); a renewal that fails is tried again every second.
It steps down, setting that event, when a round finds another holder or when
``renew_deadline`` (10 s) has passed since the start of its last successful renewal,
so a leader cut off from the API server stops before another replica may take the
Lease (15 s after it last saw it renewed). On a clean stop it waits for ``lead`` to
end and then releases the Lease (holder cleared), so another replica takes over at its
next look instead of after 15 s.

``leading()`` is the gate every leader-only action checks right before it acts (the
sampler before it stores, the prune job, a Reporter push): true only while this
replica holds the Lease within its renew deadline. ``status()`` says which replica
leads and since when, for ``/status`` and ``/health``.

Guarantees: a failing round (API server down, 409, a bad answer) is logged and
retried, never raised; the API calls run in a worker thread; times come from the
injected monotonic and wall clocks, so tests drive it with fake ones.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from license_service.election.decisions import (
    Create,
    ElectionTiming,
    Leadership,
    Update,
    Wait,
    decide,
    observe,
    released,
)
from license_service.election.lease_records import LeaseRecord, ObservedLease, ReplicaId
from license_service.waiting import Sleep, stopped_while_waiting

logger = logging.getLogger(__name__)

FAILED_RENEWAL_RETRY: Final = timedelta(seconds=1)
FOLLOWER_LOOK: Final = timedelta(seconds=2)
"""How often a replica that does not lead reads the Lease (client-go's default retry period):
it sees the leader's last renewal within 2 s, so a dead leader is replaced at most about
17 s after that renewal. The leader renews every retry period (5 s)."""
# After the claim seen expires, the next look comes this much later (a clock's granularity).
_EXPIRY_MARGIN: Final = 0.05


class LeaseStore(Protocol):
    """The Lease on the API server (``cluster.kubernetes.leases.LeaseClient``)."""

    @property
    def place(self) -> str:
        """``Lease <namespace>/<name>``, for messages."""
        ...

    def read(self) -> tuple[LeaseRecord, str] | None:
        """The record and resourceVersion, or ``None`` when there is no Lease."""
        ...

    def create(self, record: LeaseRecord) -> str:
        """Create the Lease; its resourceVersion (raises when it exists)."""
        ...

    def update(self, record: LeaseRecord, *, resource_version: str) -> str:
        """Replace the Lease read at ``resource_version``; its new resourceVersion."""
        ...


@dataclass(frozen=True, slots=True)
class Takeover:
    """This replica became the leader; ``previous`` held the Lease before (``None``: nobody
    did; ``""``: its holder had released it; our own identity: we held it, stopped leading
    and took it back), renewed last at ``previous_renewed`` by its own clock."""

    previous: str | None
    previous_renewed: datetime | None
    at: datetime


@dataclass(frozen=True, slots=True)
class LeaderStatus:
    """Who leads, as this replica last saw the Lease (``/status``, ``/health``)."""

    identity: ReplicaId
    lease: str
    leading: bool
    leader: str | None
    leader_since: datetime | None
    last_error: str | None = None


Lead = Callable[[asyncio.Event, Takeover], Coroutine[Any, Any, None]]
"""The leader's jobs: run until the event is set, then end (finishing the work in hand)."""
RunBlocking = Callable[[Callable[[], Any]], Coroutine[Any, Any, Any]]
"""Runs a blocking call off the event loop (``asyncio.to_thread``)."""


class LeaderElector:
    """One replica's part in the election on ``leases``."""

    def __init__(
        self,
        leases: LeaseStore,
        *,
        identity: ReplicaId,
        timing: ElectionTiming | None = None,
        wall_clock: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        run_blocking: RunBlocking = asyncio.to_thread,
    ) -> None:
        """``run_blocking`` runs an API round off the event loop (tests run it inline)."""
        self._leases = leases
        self.identity = identity
        self.timing = timing or ElectionTiming()
        self._wall_clock = wall_clock
        self._monotonic = monotonic
        self._sleep = sleep
        self._run_blocking = run_blocking
        # Rounds run in a worker thread while leading() and status() are read elsewhere.
        self._lock = threading.Lock()
        self._observed: ObservedLease | None = None
        self._leadership: Leadership | None = None
        self._last_error: str | None = None

    def leading(self) -> bool:
        """Whether this replica may act as the leader now (holds the Lease, within deadline)."""
        with self._lock:
            leadership = self._leadership
        return leadership is not None and leadership.acting(self._monotonic(), self.timing)

    def status(self) -> LeaderStatus:
        """Who leads and since when, as last seen."""
        with self._lock:
            observed, leadership, error = self._observed, self._leadership, self._last_error
        leading = leadership is not None and leadership.acting(self._monotonic(), self.timing)
        record = observed.record if observed is not None else None
        holder = record.holder if record is not None and record.holder else None
        if leading and leadership is not None:
            return LeaderStatus(
                self.identity, self._leases.place, True, self.identity, leadership.since, error
            )
        since = record.acquire_time if record is not None and holder else None
        return LeaderStatus(self.identity, self._leases.place, False, holder, since, error)

    async def run(self, stop: asyncio.Event, lead: Lead) -> None:
        """Take part in the election until ``stop`` is set; run ``lead`` while leading."""
        logger.info(
            "Leader election on %s as %s (lease %g s, renewed every %g s)",
            self._leases.place,
            self.identity,
            self.timing.lease_duration.total_seconds(),
            self.timing.retry_period.total_seconds(),
        )
        while not stop.is_set():
            takeover = await self._acquire(stop)
            if takeover is None:
                break
            resign = asyncio.Event()
            leader_jobs = asyncio.create_task(lead(resign, takeover), name="leader jobs")
            # Renewing ends when the service stops or the leader's jobs end (a failure).
            halt = asyncio.Event()
            leader_jobs.add_done_callback(functools.partial(_set_on_end, halt))
            watching_stop = asyncio.create_task(_set_when(stop, halt))
            try:
                await self._renew(halt)
            finally:
                watching_stop.cancel()
                resign.set()
                with self._lock:
                    self._leadership = None
                # The jobs end within their own bound (the sample in hand); their failure
                # is the service's failure, raised here to the supervisor.
                await leader_jobs
            if stop.is_set():
                await self._run_blocking(self._release)

    async def _acquire(self, stop: asyncio.Event) -> Takeover | None:
        retry = self.timing.retry_period.total_seconds()
        while not stop.is_set():
            outcome = await self._run_blocking(self._round)
            if isinstance(outcome, Takeover):
                logger.info(
                    "%s leads from %s (%s)",
                    self.identity,
                    outcome.at.isoformat(),
                    _taken_from(outcome, self.identity),
                )
                return outcome
            # Look again soon (a holder that stops renewing is seen within FOLLOWER_LOOK), and
            # right when the claim we saw expires.
            wait = min(retry, FOLLOWER_LOOK.total_seconds())
            if isinstance(outcome, Wait):
                wait = min(wait, outcome.expires_in.total_seconds() + _EXPIRY_MARGIN)
            if await stopped_while_waiting(stop, wait, sleep=self._sleep):
                break
        return None

    async def _renew(self, halt: asyncio.Event) -> None:
        """Renew until the Lease is lost, the deadline passes or ``halt`` is set."""
        retry = self.timing.retry_period.total_seconds()
        failed_retry = FAILED_RENEWAL_RETRY.total_seconds()
        next_try = retry
        while not halt.is_set():
            with self._lock:
                leadership = self._leadership
            if leadership is None:
                return
            now = self._monotonic()
            deadline = leadership.acting_until(self.timing)
            wake = min(leadership.renewed_at + next_try, deadline)
            if await stopped_while_waiting(halt, wake - now, sleep=self._sleep):
                return
            if self._monotonic() >= deadline:
                logger.warning(
                    "%s could not renew %s within %g s: stepping down (%s)",
                    self.identity,
                    self._leases.place,
                    self.timing.renew_deadline.total_seconds(),
                    self._last_error or "no answer",
                )
                return
            outcome = await self._run_blocking(self._round)
            if outcome is None:
                # Failed (logged): try again soon, still within the deadline.
                with self._lock:
                    renewed_at = self._leadership.renewed_at if self._leadership else now
                next_try = self._monotonic() - renewed_at + failed_retry
                continue
            if isinstance(outcome, Wait):
                logger.warning(
                    "%s lost %s to %s: stepping down",
                    self.identity,
                    self._leases.place,
                    outcome.holder,
                )
                return
            next_try = retry

    def _round(self) -> Takeover | Wait | None:
        """One round of client-go's tryAcquireOrRenew (blocking).

        Returns the ``Takeover`` when this round made us the leader, the ``Wait`` when another
        holds the Lease, ``None`` when the round failed or renewed ours.
        """
        sent_at = self._monotonic()
        wall_now = self._wall_clock()
        try:
            read = self._leases.read()
            with self._lock:
                observed = self._observed
                if read is not None:
                    observed = observe(observed, read[0], read[1], now=sent_at)
                else:
                    observed = None
                self._observed = observed
            decision = decide(
                self.identity, observed, now=sent_at, wall_now=wall_now, timing=self.timing
            )
            if isinstance(decision, Wait):
                with self._lock:
                    self._leadership = None
                    self._last_error = None
                return decision
            if isinstance(decision, Create):
                version = self._leases.create(decision.record)
                record, previous, previous_renewed = decision.record, None, None
            else:
                assert isinstance(decision, Update)
                version = self._leases.update(
                    decision.record, resource_version=decision.resource_version
                )
                record, previous = decision.record, decision.taking_over_from
                if previous is None:
                    # Our own Lease, renewed after we stepped down (or after a restart under
                    # the same name): instants were missed all the same.
                    previous = self.identity
                previous_renewed = observed.record.renew_time if observed is not None else None
        except Exception as error:
            message = str(error).splitlines()[0] if str(error) else type(error).__name__
            with self._lock:
                self._last_error = message
                leading = self._leadership is not None
            log = logger.warning if leading else logger.info
            log("Leader election round of %s failed: %s", self.identity, message)
            return None
        with self._lock:
            self._observed = ObservedLease(record, version, self._monotonic())
            self._last_error = None
            was_leading = self._leadership is not None
            since = self._leadership.since if self._leadership else wall_now
            self._leadership = Leadership(since=since, renewed_at=sent_at)
        if was_leading:
            return None
        return Takeover(previous=previous, previous_renewed=previous_renewed, at=wall_now)

    def _release(self) -> None:
        """Leave the Lease to the others at a clean stop, as client-go's ReleaseOnCancel."""
        with self._lock:
            observed = self._observed
        if observed is None or observed.record.holder != self.identity:
            return
        try:
            self._leases.update(
                released(observed.record, wall_now=self._wall_clock()),
                resource_version=observed.resource_version,
            )
        except Exception as error:
            logger.info("%s could not release %s: %s", self.identity, self._leases.place, error)
            return
        with self._lock:
            self._observed = None
        logger.info("%s released %s", self.identity, self._leases.place)


def _set_on_end(event: asyncio.Event, _task: asyncio.Task[None]) -> None:
    event.set()


async def _set_when(stop: asyncio.Event, halt: asyncio.Event) -> None:
    await stop.wait()
    halt.set()


def _taken_from(takeover: Takeover, identity: str) -> str:
    if takeover.previous is None:
        return "no other replica held the Lease"
    if not takeover.previous:
        return "its previous holder had released the Lease"
    if takeover.previous == identity:
        return "it held the Lease before, stopped leading, and took it back"
    return f"taken over from {takeover.previous}, which stopped renewing it"
