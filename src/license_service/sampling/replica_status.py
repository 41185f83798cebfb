"""What a replica that does not lead says about sampling: the leader's samples, from the store.

Only the leader samples, so a follower's own sampler has nothing to say (or what it
said when it last led). ``/health``, ``/status`` and ``/metrics`` of every replica must
say the same about the service: ``StoredSampleView`` keeps the newest stored sample,
read again after each write to the store (the leader's reach a follower through
``Database.notify_other_replicas``), and ``replica_sampler_status`` answers with it
whenever it is newer than the replica's own. No I/O when asked, so it is safe on the
event loop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from license_service.metering.cluster_view import ClusterId
from license_service.sampling.status import SamplerStatus
from license_service.store.database import Database
from license_service.store.samples import StoredSample, latest_sample

logger = logging.getLogger(__name__)


class StoredSampleView:
    """The newest sample of ``cluster_id`` in ``database``, kept after each write."""

    def __init__(self, database: Database, *, cluster_id: ClusterId) -> None:
        self._database = database
        self._cluster_id = cluster_id
        self._lock = threading.Lock()
        self._latest: StoredSample | None = None
        database.add_write_listener(self.refresh)

    def latest(self) -> StoredSample | None:
        """The newest sample as last read (``None`` before the first)."""
        with self._lock:
            return self._latest

    def refresh(self) -> None:
        """Read the newest sample again; a failure keeps the previous one (and is logged)."""
        try:
            with self._database.read() as connection:
                latest = latest_sample(connection, cluster_id=self._cluster_id)
        except Exception as error:
            logger.warning("Reading the newest sample failed: %s", error)
            return
        with self._lock:
            if latest is not None and (
                self._latest is None or latest.taken_at >= self._latest.taken_at
            ):
                self._latest = latest


def replica_sampler_status(
    own: Callable[[], SamplerStatus],
    *,
    leading: Callable[[], bool],
    stored: StoredSampleView,
) -> Callable[[], SamplerStatus]:
    """The sampler status of a replica: its own while it leads, else the leader's samples."""

    def status() -> SamplerStatus:
        mine = own()
        if leading():
            return mine
        newest = stored.latest()
        following = replace(mine, next_sample_at=None)
        if newest is None or (
            mine.last_sample_at is not None and mine.last_sample_at >= newest.taken_at
        ):
            return following
        return replace(
            following,
            interval=timedelta(seconds=newest.interval_seconds),
            last_outcome="sampled",
            last_sample_at=newest.taken_at,
            last_error=None,
            last_measurement=newest.measurement,
        )

    return status
