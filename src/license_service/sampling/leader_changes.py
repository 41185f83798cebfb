"""The gap at a change of leader (SPEC 12): recorded with the reason "leader changed".

When a replica takes the lead from another (which died, was cut off, or stopped and
released the Lease), the instants due between the newest stored sample and the
moment it took over were sampled by nobody. ``record_leader_change`` records them as
one missed sample at the first of them, so reports show the gap with its reason
instead of "no reason recorded". Counted by the one rule every report uses
(``store.missed_instants``): a takeover within half an interval of the last sample
misses nothing and records nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Final

from license_service.metering.cluster_view import ClusterId
from license_service.sampling.sampler import Transactions
from license_service.sampling.schedule import interval_seconds
from license_service.store.missed_instants import missed_instants
from license_service.store.sampling_coverage import last_sampled_at, record_missed_sample

logger = logging.getLogger(__name__)

REASON: Final = "leader changed"


def leader_change_reason(*, new: str, previous: str, previous_renewed: datetime | None) -> str:
    """``leader changed: pod-b took over from pod-a (last renewed 12:00:05Z)``."""
    if not previous:
        return f"{REASON}: {new} took over a released lease"
    if previous == new:
        return (
            f"{REASON}: {new} stopped leading (its Lease was not renewed in time) and took it back"
        )
    renewed = (
        f" (last renewed {previous_renewed.astimezone(UTC).isoformat().replace('+00:00', 'Z')})"
        if previous_renewed is not None
        else ""
    )
    return f"{REASON}: {new} took over from {previous}{renewed}"


def record_leader_change(
    database: Transactions,
    *,
    cluster_id: ClusterId,
    now: datetime,
    interval: timedelta,
    reason: str,
) -> int:
    """Record the instants missed from the newest sample to ``now`` with ``reason``; how many.

    Raises ``StorageError`` when the store cannot be written.
    """
    seconds = interval_seconds(interval)
    with database.begin() as connection:
        latest = last_sampled_at(connection, cluster_id=cluster_id)
        if latest is None:
            return 0
        missed = missed_instants(latest, now, interval_seconds=seconds)
        if missed:
            record_missed_sample(
                connection, cluster_id=cluster_id, at=latest + interval, reason=reason
            )
    if missed:
        logger.warning(
            "%d sampling instant(s) after %s missed while the leader changed: %s",
            missed,
            latest.isoformat(),
            reason,
        )
    return missed
