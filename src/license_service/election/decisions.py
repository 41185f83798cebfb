"""The election's decisions, as client-go's ``tryAcquireOrRenew`` makes them; no side effects.

Each round, a replica reads the Lease and ``decide`` says what to write:

- no Lease: create it, held by us (``Create``);
- a Lease held by another replica whose record has changed within the last
  ``lease_duration`` by OUR monotonic clock (``observe`` keeps the instant of the last
  change): leave it (``Wait``). A holder that stopped renewing is taken over only
  ``lease_duration`` after we saw its last renewal, however its ``renewTime`` compares
  with our wall clock;
- otherwise (ours, released, or expired): write our claim with the ``resourceVersion``
  read (``Update``), so of two replicas racing for it the API server lets one win (409
  for the other). Taking it from another holder counts a transition and sets
  ``acquireTime``; renewing our own keeps both.

A leader may act only while ``Leadership.acting(now)``: until ``renew_deadline`` after
the START of its last successful renewal. ``renew_deadline`` is shorter than
``lease_duration``, and another replica cannot see that renewal before it was sent,
so a leader cut off from the API server stops acting before anyone may take over.
``released`` is the record a leader writes when it stops cleanly (holder cleared,
``leaseDurationSeconds`` 1), so another replica takes over at its next round.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from license_service.election.lease_records import (
    RELEASED_DURATION_SECONDS,
    LeaseRecord,
    ObservedLease,
    ReplicaId,
)

LEASE_DURATION: Final = timedelta(seconds=15)
RENEW_DEADLINE: Final = timedelta(seconds=10)
RETRY_PERIOD: Final = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class ElectionTiming:
    """How long a claim lasts, how long a leader may go unrenewed, how often replicas try.

    SPEC 12: a 15 s lease renewed every 5 s; client-go's renew deadline of 10 s.
    """

    lease_duration: timedelta = LEASE_DURATION
    renew_deadline: timedelta = RENEW_DEADLINE
    retry_period: timedelta = RETRY_PERIOD

    def __post_init__(self) -> None:
        # client-go refuses the same: otherwise a cut-off leader acts after others took over.
        if not self.lease_duration > self.renew_deadline > self.retry_period > timedelta(0):
            raise ValueError(
                "leader election needs lease duration > renew deadline > retry period > 0, got "
                f"{self.lease_duration.total_seconds():g} s, "
                f"{self.renew_deadline.total_seconds():g} s, "
                f"{self.retry_period.total_seconds():g} s"
            )

    @property
    def lease_seconds(self) -> int:
        """``leaseDurationSeconds`` as written in the Lease (whole seconds, at least 1)."""
        return max(1, int(self.lease_duration.total_seconds()))


@dataclass(frozen=True, slots=True)
class Create:
    """No Lease yet: create it with ``record``."""

    record: LeaseRecord


@dataclass(frozen=True, slots=True)
class Update:
    """Write ``record`` over the Lease read at ``resource_version`` (409 if it moved on)."""

    record: LeaseRecord
    resource_version: str
    taking_over_from: str | None
    """The previous holder when we take the Lease from another (``""``: it was released)."""


@dataclass(frozen=True, slots=True)
class Wait:
    """Another replica holds the Lease; try again after ``expires_in`` at the earliest."""

    holder: str
    expires_in: timedelta


Decision = Create | Update | Wait


@dataclass(frozen=True, slots=True)
class Leadership:
    """This replica leads: since ``since`` (wall clock, for /status), last renewed by a
    request sent at ``renewed_at`` (monotonic seconds)."""

    since: datetime
    renewed_at: float

    def acting_until(self, timing: ElectionTiming) -> float:
        """The monotonic instant after which this leader must not act without a renewal."""
        return self.renewed_at + timing.renew_deadline.total_seconds()

    def acting(self, now: float, timing: ElectionTiming) -> bool:
        """Whether the leader may still sample, prune and push at monotonic ``now``."""
        return now < self.acting_until(timing)


def observe(
    previous: ObservedLease | None, record: LeaseRecord, resource_version: str, *, now: float
) -> ObservedLease:
    """The Lease as read at monotonic ``now``; the observation instant moves only on a change."""
    if (
        previous is not None
        and previous.record == record
        and previous.resource_version == resource_version
    ):
        return previous
    return ObservedLease(record, resource_version, now)


def decide(
    me: ReplicaId,
    observed: ObservedLease | None,
    *,
    now: float,
    wall_now: datetime,
    timing: ElectionTiming,
) -> Decision:
    """What to write this round, given the Lease as observed (``None``: there is none)."""
    if observed is None:
        return Create(
            LeaseRecord(
                holder=me,
                lease_duration_seconds=timing.lease_seconds,
                acquire_time=wall_now,
                renew_time=wall_now,
                transitions=0,
            )
        )
    current = observed.record
    if not current.released and current.holder != me:
        # The holder's own duration counts (a released Lease says 1 s); never less than 0.
        expires_at = observed.observed_at + max(0, current.lease_duration_seconds)
        if now < expires_at:
            return Wait(current.holder, timedelta(seconds=expires_at - now))
    ours = current.holder == me
    claim = LeaseRecord(
        holder=me,
        lease_duration_seconds=timing.lease_seconds,
        acquire_time=current.acquire_time if ours else wall_now,
        renew_time=wall_now,
        transitions=current.transitions if ours else current.transitions + 1,
    )
    return Update(
        claim, observed.resource_version, taking_over_from=None if ours else current.holder
    )


def released(record: LeaseRecord, *, wall_now: datetime) -> LeaseRecord:
    """The record a leader leaves when it stops cleanly: no holder, 1 s, as client-go does."""
    return replace(
        record,
        holder="",
        lease_duration_seconds=RELEASED_DURATION_SECONDS,
        acquire_time=wall_now,
        renew_time=wall_now,
    )
