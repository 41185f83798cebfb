"""What a ``coordination.k8s.io/v1`` Lease says about its holder, as the election reads it.

``LeaseRecord`` is client-go's ``LeaderElectionRecord``: the holder (``""`` once
released), how long a holder's claim lasts, when it was acquired and last renewed,
and how many times it changed hands. ``ObservedLease`` adds the Lease's
``resourceVersion`` (for the optimistic update) and the instant on THIS replica's
monotonic clock at which the record was last seen to change: the expiry is judged from
that instant, never from ``renewTime`` against our wall clock, so clocks that
disagree between nodes cannot make two leaders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, NewType

ReplicaId = NewType("ReplicaId", str)
"""The identity of one replica in the election (its pod name)."""

LEASE_NAME: Final = "license-service-leader"
"""The Lease the replicas elect their leader with (SPEC 12)."""
RELEASED_DURATION_SECONDS: Final = 1
"""The ``leaseDurationSeconds`` a released Lease is left with, as client-go leaves it."""


@dataclass(frozen=True, slots=True)
class LeaseRecord:
    """The spec of a Lease: who holds it, since when, renewed when, for how long."""

    holder: str
    lease_duration_seconds: int
    acquire_time: datetime | None
    renew_time: datetime | None
    transitions: int = 0

    @property
    def released(self) -> bool:
        """Whether nobody holds the Lease (its holder let it go, or it never had one)."""
        return not self.holder


@dataclass(frozen=True, slots=True)
class ObservedLease:
    """A Lease as read, with its ``resourceVersion`` and when we saw its record change.

    ``observed_at`` is on this replica's monotonic clock (seconds).
    """

    record: LeaseRecord
    resource_version: str
    observed_at: float
