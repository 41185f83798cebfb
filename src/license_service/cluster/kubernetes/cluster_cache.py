"""What the collector knows: the projections of every watched object and how fresh they are.

One map per resource, keyed by (namespace, name), holds only projections; the watch
loops change it, the source reads it. Guarantees:

- ``replace`` swaps a whole map at once (after a list or re-list): objects deleted
  while the watch was down disappear and nothing is counted twice.
- ``view`` is rebuilt only when something changed since the last call; otherwise the
  same ``ClusterView`` (same tuples) is returned, so reading it is cheap.
- The pods' cells for usage explanations (``metering.explanation_cells.CellIndex``)
  follow every pod event, and each view carries their snapshot (``ClusterView.cells``):
  a sample that raises a day's peak keeps its breakdown without a pass over the pods.
  After a list they are counted afresh by the next ``view`` (not by the list: the
  cache is synchronised as soon as the objects are in); so after an index asks for it.
- Freshness per resource: when it was last confirmed current (a list completed, a
  watch event or bookmark arrived, a watch ended normally), since when it has been in
  trouble, and its last error. A confirmation clears the trouble and the error.
- The uid of the ``kube-system`` namespace is remembered once seen (the cluster id).

All methods are thread-safe and hold the lock only briefly (building a view copies
the values of three dicts).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, cast

from license_service.cluster.decoding import ObjectKey, Projection
from license_service.cluster.kubernetes.resource_kinds import (
    NAMESPACES,
    NODES,
    PODS,
    WATCHED_KINDS,
)
from license_service.metering.cluster_view import ClusterView, Namespace, Node, Pod
from license_service.metering.explanation_cells import CellIndex

CLUSTER_ID_NAMESPACE: Final = "kube-system"

Change = tuple[ObjectKey, Projection | None]
"""A watch event applied to a map: the key and the new projection, ``None`` to remove."""


@dataclass(slots=True)
class _Freshness:
    listed: bool = False
    current_at: datetime | None = None
    trouble_since: datetime | None = None
    error: str | None = None
    error_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CacheStatus:
    """How fresh the cache is over all resources, at one instant.

    ``observed_at`` is the oldest of the resources' last confirmations (``None`` until
    every resource was confirmed once); ``trouble_since`` the earliest start of a
    still-unresolved failure; ``last_error`` the most recent unresolved error.
    """

    listed: bool
    observed_at: datetime | None
    trouble_since: datetime | None
    last_error: str | None
    kube_system_uid: str | None


class ClusterCache:
    """The maps of projections and their freshness, shared by the loops and the source."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        names = [kind.name for kind in WATCHED_KINDS]
        self._objects: dict[str, dict[ObjectKey, Projection]] = {name: {} for name in names}
        self._freshness = {name: _Freshness() for name in names}
        self._generation = 0
        self._view_generation = 0
        self._view = ClusterView()
        self._kube_system_uid: str | None = None
        # None: to be counted afresh from the objects by the next view.
        self._cells: CellIndex | None = CellIndex()

    def replace(self, resource: str, objects: dict[ObjectKey, Projection], *, at: datetime) -> None:
        """Make ``objects`` the whole content of ``resource``, listed as of ``at``."""
        with self._lock:
            self._objects[resource] = objects
            if resource == PODS.name:
                self._cells = None
            elif resource == NODES.name and self._cells is not None:
                self._cells.keep_nodes(_nodes(objects.values()))
            self._generation += 1
            if resource == NAMESPACES.name:
                self._note_cluster_id(objects.get(("", CLUSTER_ID_NAMESPACE)))
            freshness = self._freshness[resource]
            freshness.listed = True
            self._confirm(freshness, at)

    def apply(self, resource: str, changes: Sequence[Change], *, at: datetime) -> None:
        """Apply watch events (in order) received at ``at``; they confirm ``resource``."""
        with self._lock:
            objects = self._objects[resource]
            if resource == PODS.name and self._cells is not None:
                self._count_pods(self._cells, objects, changes)
            elif resource == NODES.name and self._cells is not None:
                for (_, name), projection in changes:
                    if isinstance(projection, Node):
                        self._cells.set_node(projection)
                    else:
                        self._cells.remove_node(name)
            for key, projection in changes:
                if projection is None:
                    objects.pop(key, None)
                else:
                    objects[key] = projection
                    if resource == NAMESPACES.name and key == ("", CLUSTER_ID_NAMESPACE):
                        self._note_cluster_id(projection)
            if changes:
                self._generation += 1
            self._confirm(self._freshness[resource], at)

    def confirm(self, resource: str, *, at: datetime) -> None:
        """``resource`` is known current at ``at`` (a bookmark, a watch that ended normally)."""
        with self._lock:
            self._confirm(self._freshness[resource], at)

    def fail(self, resource: str, message: str, *, at: datetime) -> None:
        """``resource`` could not be read at ``at``; ``message`` says why (no secrets)."""
        with self._lock:
            freshness = self._freshness[resource]
            freshness.error = message
            freshness.error_at = at
            if freshness.trouble_since is None:
                freshness.trouble_since = at

    def view(self) -> ClusterView:
        """Every projection as one view; the same object until something changes."""
        with self._lock:
            if self._view_generation != self._generation:
                self._view = ClusterView(
                    pods=cast(tuple[Pod, ...], tuple(self._objects[PODS.name].values())),
                    nodes=cast(tuple[Node, ...], tuple(self._objects[NODES.name].values())),
                    namespaces=cast(
                        tuple[Namespace, ...], tuple(self._objects[NAMESPACES.name].values())
                    ),
                    cells=self._counted_cells().cells(),
                )
                self._view_generation = self._generation
            return self._view

    def count(self, resource: str) -> int:
        """How many objects of ``resource`` are held."""
        with self._lock:
            return len(self._objects[resource])

    def status(self) -> CacheStatus:
        """The freshness over all resources now."""
        with self._lock:
            entries = list(self._freshness.values())
            uid = self._kube_system_uid
        confirmations = [entry.current_at for entry in entries]
        troubles = [entry.trouble_since for entry in entries if entry.trouble_since is not None]
        errors = [
            (entry.error_at, entry.error)
            for entry in entries
            if entry.error is not None and entry.error_at is not None
        ]
        return CacheStatus(
            listed=all(entry.listed for entry in entries),
            observed_at=_oldest(confirmations),
            trouble_since=min(troubles) if troubles else None,
            last_error=max(errors)[1] if errors else None,
            kube_system_uid=uid,
        )

    def _counted_cells(self) -> CellIndex:
        """The cells, counted afresh from the objects when a list or the index asked for
        it (under the lock: once per list, about a second per million pods)."""
        if self._cells is None:
            self._cells = CellIndex.of(
                _pods(self._objects[PODS.name].values()),
                _nodes(self._objects[NODES.name].values()),
            )
        return self._cells

    def _count_pods(
        self, cells: CellIndex, objects: dict[ObjectKey, Projection], changes: Sequence[Change]
    ) -> None:
        """Follow ``changes`` (not applied yet to ``objects``) in ``cells``."""
        for key, projection in changes:
            before = objects.get(key)
            if before is not None and before == projection:
                continue  # a change of nothing the view holds (most MODIFIED events)
            if isinstance(before, Pod):
                cells.remove(before)
            if isinstance(projection, Pod):
                cells.add(projection)
                objects[key] = projection  # so that a later change of the block sees it
            elif projection is None:
                objects.pop(key, None)
        if cells.wants_rebuild:
            self._cells = None

    def _note_cluster_id(self, namespace: Projection | None) -> None:
        if self._kube_system_uid is None and isinstance(namespace, Namespace) and namespace.uid:
            self._kube_system_uid = namespace.uid

    @staticmethod
    def _confirm(freshness: _Freshness, at: datetime) -> None:
        freshness.current_at = at
        freshness.trouble_since = None
        freshness.error = None
        freshness.error_at = None


def _pods(objects: Iterable[Projection]) -> Iterable[Pod]:
    return (item for item in objects if isinstance(item, Pod))


def _nodes(objects: Iterable[Projection]) -> Iterable[Node]:
    return (item for item in objects if isinstance(item, Node))


def _oldest(instants: Sequence[datetime | None]) -> datetime | None:
    if not instants or any(instant is None for instant in instants):
        return None
    return min(cast(Sequence[datetime], instants))
