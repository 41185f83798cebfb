"""A cluster source over dump files (``serve --cluster-dump FILE...``), re-read when they change.

For clusters the service cannot reach, an operator saves
``kubectl get pods,nodes,namespaces -A -o json`` to files and replaces them now and
then. The dump is the truth until it is replaced: every successful ``check`` of
unchanged files confirms the view (``observed_at`` = now), so sampling goes on.

Guarantees:

- ``current`` is cheap and never touches the disk: it returns what the last
  ``check`` learnt (the runtime calls ``check`` from a watcher every second or so).
- A file is re-read only when its modification time, size or inode changed (an
  atomic replace by rename is seen too), so a large dump is not parsed every second.
- A file that cannot be read or parsed never replaces a good view: the previous
  view stays in use, ``last_error`` says what is wrong, and ``observed_at`` stays
  at the last good check, so the view turns stale (``synced`` false) after
  ``stale_after`` and the sampler records gaps instead of samples.
- The cluster id is fixed when the source is loaded (``--cluster-id``, else the
  ``kube-system`` namespace's uid in the dump): a later dump of another cluster is
  refused like an unreadable one.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from license_service.cluster.dumps import STDIN, UNKNOWN_CLUSTER_ID, cluster_id_of, read_dumps
from license_service.cluster.source import ClusterState
from license_service.errors import InputError
from license_service.metering.cluster_view import ClusterId, ClusterView

logger = logging.getLogger(__name__)

DEFAULT_STALE_AFTER: Final = timedelta(minutes=15)

_Stamp = tuple[int, int, int] | None
"""(modification time in ns, size, inode) of a file, or ``None`` when it cannot be stat'ed."""


class DumpFileSource:
    """A ``ClusterSource`` whose view is the merge of dump files, re-read when they change."""

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        clock: Callable[[], datetime],
        cluster_id: ClusterId | None = None,
        stale_after: timedelta = DEFAULT_STALE_AFTER,
    ) -> None:
        """Prepare a source over ``paths``; nothing is read until ``load`` or ``check``.

        ``cluster_id`` pins the id; by default it is taken from the first good read.
        """
        if not paths:
            raise InputError("no cluster dump given; pass at least one --cluster-dump FILE")
        if any(str(path) == STDIN for path in paths):
            raise InputError(
                "--cluster-dump -: standard input cannot be watched for changes; "
                "save the dump to a file and pass its path"
            )
        self._paths = tuple(paths)
        self._clock = clock
        self._pinned_id = cluster_id
        self._stale_after = stale_after
        # check() runs in a watcher thread while current() is called from the sampler's.
        self._lock = threading.Lock()
        self._stamps: tuple[_Stamp, ...] | None = None
        self._state: ClusterState | None = None

    @classmethod
    def load(
        cls,
        paths: Sequence[Path],
        *,
        clock: Callable[[], datetime],
        cluster_id: ClusterId | None = None,
        stale_after: timedelta = DEFAULT_STALE_AFTER,
    ) -> DumpFileSource:
        """Create the source and read the dumps once; ``InputError`` when they are unusable."""
        source = cls(paths, clock=clock, cluster_id=cluster_id, stale_after=stale_after)
        stamps = source._current_stamps()
        view = read_dumps(source._paths)
        source._accept(view, stamps=stamps, now=clock())
        return source

    @property
    def paths(self) -> tuple[Path, ...]:
        """The dump files, in merge order (a later file wins for an object listed twice)."""
        return self._paths

    @property
    def cluster_id(self) -> ClusterId:
        """The id of the measured cluster (``"unknown"`` before the first good read)."""
        with self._lock:
            if self._state is not None:
                return self._state.cluster_id
        return self._pinned_id or UNKNOWN_CLUSTER_ID

    def current(self) -> ClusterState:
        """Return the view of the last good read; cheap, never reads a file."""
        now = self._clock()
        with self._lock:
            state = self._state
        if state is None:
            return ClusterState(
                view=ClusterView(),
                synced=False,
                observed_at=now,
                cluster_id=self._pinned_id or UNKNOWN_CLUSTER_ID,
                source="dump",
                last_error="the cluster dumps have not been read yet",
            )
        if state.last_error is not None and now - state.observed_at > self._stale_after:
            return dataclasses.replace(state, synced=False)
        return state

    def check(self) -> bool:
        """Re-read the dumps if a file changed; return True when a new view was taken.

        Never raises for a bad file: the previous view stays and ``last_error`` says why.
        """
        now = self._clock()
        stamps = self._current_stamps()
        with self._lock:
            unchanged = stamps == self._stamps
            if unchanged and self._state is not None and self._state.last_error is None:
                # The dump is the truth until it is replaced: the view is still current.
                self._state = dataclasses.replace(self._state, observed_at=now)
        if unchanged:
            return False
        try:
            view = read_dumps(self._paths)
            self._accept(view, stamps=stamps, now=now)
        except InputError as exc:
            self._reject(str(exc), stamps=stamps, now=now)
            return False
        logger.info(
            # Samples are the record: the new view counts from the next one, not now.
            "Cluster dumps re-read: %d pods, %d nodes, %d namespaces; counted from the next sample",
            len(view.pods),
            len(view.nodes),
            len(view.namespaces),
        )
        return True

    def _current_stamps(self) -> tuple[_Stamp, ...]:
        return tuple(_stamp(path) for path in self._paths)

    def _accept(self, view: ClusterView, *, stamps: tuple[_Stamp, ...], now: datetime) -> None:
        """Make ``view`` current; ``InputError`` when it is of another cluster than before."""
        found = cluster_id_of(view)
        with self._lock:
            expected = self._pinned_id or (
                self._state.cluster_id if self._state is not None else None
            )
        if expected is not None and self._pinned_id is None and found != expected:
            files = ", ".join(str(path) for path in self._paths)
            raise InputError(
                f"{files}: the dump is of cluster {found} (uid of kube-system), but this "
                f"service measures cluster {expected}; restart the service to measure "
                "another cluster, or pass --cluster-id to name the cluster yourself"
            )
        with self._lock:
            self._stamps = stamps
            self._state = ClusterState(
                view=view,
                synced=True,
                observed_at=now,
                cluster_id=expected or found,
                source="dump",
            )

    def _reject(self, error: str, *, stamps: tuple[_Stamp, ...], now: datetime) -> None:
        with self._lock:
            self._stamps = stamps
            previous = self._state
            if previous is not None:
                self._state = dataclasses.replace(previous, last_error=error)
        kept = (
            f"the view read at {previous.observed_at.isoformat()} stays in use for at most "
            f"{_minutes(self._stale_after)}, then sampling pauses until the file is fixed"
            if previous is not None
            else "no view yet: no sample is taken until the file is fixed"
        )
        logger.warning("Cluster dump not used at %s: %s; %s", now.isoformat(), error, kept)


def _stamp(path: Path) -> _Stamp:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_mtime_ns, status.st_size, status.st_ino)


def _minutes(duration: timedelta) -> str:
    return f"{duration.total_seconds() / 60:g} minutes"
