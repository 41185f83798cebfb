"""Sharing the leader's view through the store, and reading it back (SPEC 12).

``LeaderViewPublisher.publish`` runs every ``PUBLISH_EVERY_SECONDS`` while this replica
leads: it builds the view from the sampler's and the sender's in-memory status (no I/O
when neither changed) and writes it only when it changed, or, unchanged, touches its
time once per sampling interval, so followers can tell a current view from one a dead
leader left. It writes nothing before this replica's first measurement.
``LeaderViewReader`` keeps the stored view, read again after each write to
the store (the leader's reach followers through ``Database.notify_other_replicas``), so
``/health`` asks it without I/O, as ``sampling.replica_status`` does for samples.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Final

from license_service.errors import StorageError
from license_service.metering.cluster_view import ClusterId
from license_service.reporting.sender import SenderStatus
from license_service.sampling.status import SamplerStatus
from license_service.store.database import Database
from license_service.store.leader_views import (
    stored_leader_view,
    touch_leader_view,
    write_leader_view,
)
from license_service.web.probes.leader_view import (
    FollowedView,
    LeaderView,
    UnreadableView,
    decoded,
    encoded,
    leader_view_document,
)

logger = logging.getLogger(__name__)

PUBLISH_EVERY_SECONDS: Final = 1.0
"""How soon a change of the leader's sections or sender reaches the store."""


class LeaderViewPublisher:
    """Writes this replica's view of ``cluster_id`` while it leads (``publish``)."""

    def __init__(
        self,
        database: Database,
        *,
        cluster_id: ClusterId,
        identity: str,
        sampler: Callable[[], SamplerStatus],
        sender: Callable[[], SenderStatus] | None,
        clock: Callable[[], datetime],
    ) -> None:
        self._database = database
        self._cluster_id = cluster_id
        self._identity = identity
        self._sampler = sampler
        self._sender = sender
        self._clock = clock
        self._seen: tuple[SamplerStatus, SenderStatus | None] | None = None
        self._document = ""
        self._written = ""
        self._written_at: datetime | None = None
        self._failing = False

    def start_term(self) -> None:
        """Forget what was written: in a new term, the first ``publish`` writes it whole."""
        self._written = ""
        self._written_at = None

    def publish(self) -> None:
        """Write the view if it changed, else touch it once per sampling interval; blocking.
        A store that cannot be written is logged once, and tried again at the next call."""
        sampler = self._sampler()
        if sampler.last_measurement is None:
            # A new leader before its first sample: the previous leader's view stays shown
            # (it says whose it is and grows stale) rather than empty sections.
            return
        sender = self._sender() if self._sender is not None else None
        # Statuses are immutable snapshots: the same objects mean the same view.
        if self._seen is None or self._seen[0] is not sampler or self._seen[1] is not sender:
            self._document = encoded(leader_view_document(sampler, sender))
            self._seen = (sampler, sender)
        now = self._clock()
        unchanged = self._document == self._written
        if unchanged and self._written_at is not None and now - self._written_at < sampler.interval:
            return
        try:
            self._write(now, unchanged=unchanged)
        except StorageError as error:
            if not self._failing:
                logger.warning("Cannot share the leader's view with the other replicas: %s", error)
            self._failing = True
            return
        if self._failing:
            logger.info("The leader's view is shared with the other replicas again")
        self._failing = False
        self._written = self._document
        self._written_at = now

    def _write(self, now: datetime, *, unchanged: bool) -> None:
        with self._database.begin() as connection:
            if unchanged and touch_leader_view(
                connection, cluster_id=self._cluster_id, leader=self._identity, written_at=now
            ):
                return
            write_leader_view(
                connection,
                cluster_id=self._cluster_id,
                leader=self._identity,
                written_at=now,
                document=self._document,
            )


class LeaderViewReader:
    """The stored view of ``cluster_id``, read again after each write to ``database``."""

    def __init__(self, database: Database, *, cluster_id: ClusterId) -> None:
        self._database = database
        self._cluster_id = cluster_id
        self._lock = threading.Lock()
        self._followed = FollowedView(None)
        self._version: tuple[str, datetime, str] | None = None
        database.add_write_listener(self.refresh)

    def followed(self) -> FollowedView:
        """The view as last read (no I/O)."""
        with self._lock:
            return self._followed

    def refresh(self) -> None:
        """Read the view again; a failed read keeps the previous one (and is logged)."""
        try:
            with self._database.read() as connection:
                stored = stored_leader_view(connection, cluster_id=self._cluster_id)
        except StorageError as error:
            logger.warning("Reading the leader's view failed: %s", error)
            return
        if stored is None:
            return
        key = (stored.leader, stored.written_at, stored.document)
        with self._lock:
            if key == self._version:
                return
        try:
            followed = FollowedView(
                LeaderView(stored.leader, stored.written_at, decoded(stored.document))
            )
        except UnreadableView as error:
            followed = FollowedView(None, problem=str(error))
        with self._lock:
            self._followed = followed
            self._version = key


def reader_for(database: Database, *, cluster_id: ClusterId) -> Callable[[], FollowedView]:
    """A ``LeaderViewReader`` of the stored view, read once now; its ``followed``."""
    reader = LeaderViewReader(database, cluster_id=cluster_id)
    reader.refresh()
    return reader.followed
