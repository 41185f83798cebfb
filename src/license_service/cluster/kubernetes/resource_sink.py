"""What the list+watch loop of one collector resource does to the cache, and to refused objects.

``CacheSink`` is the collector's ``ListWatchSink``: a complete list replaces the
resource's map, watch events change it (a refused object is taken out), a watch
that ended normally and every block of events confirm it current, and a failure is
recorded for ``/health``. After each list the garbage collector freezes what is
alive (``gc.freeze``, after a full collection when it is a re-list): the projections
held for hours are then no longer walked by every full collection.

An object the decoder refuses (say a pod whose ``spec.containers`` is not a list)
never stops the loop: it is counted as a ``decode`` error, logged once per object
until it can be read again, and left out of the view.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Final

from license_service.cluster.decoding import ObjectKey, Projection, WatchEvent
from license_service.cluster.kubernetes.cluster_cache import Change, ClusterCache
from license_service.cluster.kubernetes.counters import CollectorCounters
from license_service.cluster.kubernetes.failures import Failure
from license_service.cluster.kubernetes.resource_kinds import ResourceKind
from license_service.errors import InputError

logger = logging.getLogger(__name__)

_MAX_REMEMBERED_WARNINGS: Final = 10_000


class CacheSink:
    """Applies what one resource's loop learns to the ``ClusterCache``."""

    def __init__(
        self, kind: ResourceKind, *, cache: ClusterCache, counters: CollectorCounters
    ) -> None:
        self._kind = kind
        self._cache = cache
        self._counters = counters
        self._listed = False
        self._warned: set[ObjectKey | None] = set()

    def on_listed(
        self, objects: dict[ObjectKey, Projection], resource_version: str | None, *, at: datetime
    ) -> None:
        """Make ``objects`` the whole map of the resource, as of the list's start ``at``."""
        self._cache.replace(self._kind.name, objects, at=at)
        self._accepted(objects)
        relisted, self._listed = self._listed, True
        _freeze_survivors(collect_first=relisted)
        logger.info(
            "Listed %d %s at resourceVersion %s", len(objects), self._kind.name, resource_version
        )

    def on_events(self, events: list[WatchEvent[Projection]], *, at: datetime) -> None:
        """Apply a block of events under one lock; a refused object leaves the map."""
        changes: list[Change] = [
            (event.key, event.object) for event in events if event.key is not None
        ]
        self._cache.apply(self._kind.name, changes, at=at)
        if self._warned:
            self._accepted(key for key, projection in changes if projection is not None)

    def on_current(self, *, at: datetime) -> None:
        """A watch ended normally: the map is current."""
        self._cache.confirm(self._kind.name, at=at)

    def on_failure(self, failure: Failure, *, at: datetime) -> None:
        """Record the failure for ``/health`` and the sampler."""
        self._cache.fail(self._kind.name, failure.message, at=at)

    def refused(self, key: ObjectKey | None, error: InputError) -> None:
        """The decoder left an object out: count it, and warn once until it is read again."""
        self._counters.count_error(self._kind.name, "decode")
        if key in self._warned:
            return
        if len(self._warned) >= _MAX_REMEMBERED_WARNINGS:
            self._warned.clear()
        self._warned.add(key)
        logger.warning(
            "%s %s skipped: it cannot be read (%s); it is left out of the usage until it is fixed",
            self._kind.kind,
            "/".join(part for part in key if part) if key else "(unnamed)",
            error,
        )

    def _accepted(self, keys: Iterable[ObjectKey]) -> None:
        if self._warned:
            self._warned.difference_update(keys)


def _freeze_survivors(*, collect_first: bool) -> None:
    """Move every object alive now out of the garbage collector's sight (``gc.freeze``).

    The projections just listed (and the service's import-time objects) stay for
    hours; frozen, they are no longer walked by each full collection (about a tenth
    of the collector's CPU time at 150,000 pods, sync and watch alike). Freezing also
    keeps any cycle that is garbage or becomes garbage later: a re-list first thaws
    and collects everything, so what stays frozen is bounded by one list's survivors.
    """
    if collect_first:
        gc.unfreeze()
        gc.collect()
    gc.freeze()
