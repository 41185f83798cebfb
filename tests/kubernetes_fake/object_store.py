"""The fake's etcd: versioned objects under one global, increasing resourceVersion.

Guarantees:
- every write (create, update, delete) takes the next integer of one counter shared by all
  resources, as etcd's revision is; the object carries it as ``metadata.resourceVersion``;
- history is multi-versioned: a list or page can be read as of any revision not older than
  the last compaction (consistent snapshots for ``continue`` tokens), and every write is an
  event that watches replay from a revision;
- ``compact()`` drops the history up to the current revision, as etcd compaction does; reads
  and watches from an older revision then fail with 410 Expired;
- with a journal, every write is appended to the state file before it is acknowledged, so a
  killed process keeps its state and its counter.

Objects handed in and out are never mutated afterwards: writers pass a fresh dict, readers must
not change what they get (they copy before changing).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from .journal import Journal

JsonObject = dict[str, Any]
ObjectKey = tuple[str, str]  # (namespace or "", name)
EventType = Literal["ADDED", "MODIFIED", "DELETED"]


@dataclass(frozen=True)
class StoredEvent:
    """One write, as watches see it."""

    resource_version: int
    type: EventType
    resource: str
    obj: JsonObject
    previous: JsonObject | None


class WatchesExpired(Exception):
    """The history a watch still had to deliver was compacted away (answered as 410)."""


class ObjectStore:
    """Versioned objects of every resource, their event history, and the revision counter."""

    def __init__(self, *, journal: Journal | None = None) -> None:
        # One re-entrant lock for all state; watches wait on it for new events.
        self.lock = threading.Condition(threading.RLock())
        self._journal = journal
        self._revision = 0
        self._compacted = 0
        self._histories: dict[str, dict[ObjectKey, list[tuple[int, JsonObject | None]]]] = {}
        self._sorted_keys: dict[str, list[ObjectKey]] = {}
        self._events: list[StoredEvent] = []
        self._event_revisions: list[int] = []
        self._events_base = 0
        self._expiry_generation = 0
        if journal is not None:
            self._load(journal)

    # -- revisions -------------------------------------------------------------------------

    @property
    def revision(self) -> int:
        """The resourceVersion of the latest write (0 before any)."""
        return self._revision

    @property
    def compacted_revision(self) -> int:
        """Reads and watches from a revision older than this answer 410 Expired."""
        return self._compacted

    def is_compacted(self, revision: int) -> bool:
        """Whether reads and watches as of ``revision`` can no longer be served."""
        return revision < self._compacted

    # -- reads -----------------------------------------------------------------------------

    def get(self, resource: str, namespace: str, name: str) -> JsonObject | None:
        """The current object, or None."""
        with self.lock:
            history = self._histories.get(resource, {}).get((namespace, name))
            return history[-1][1] if history else None

    def page(
        self,
        resource: str,
        *,
        at: int,
        namespace: str | None,
        after: ObjectKey | None,
        limit: int | None,
        predicate: Callable[[JsonObject], bool],
    ) -> tuple[list[JsonObject], ObjectKey | None]:
        """Objects as of revision ``at``, in key order after ``after``, at most ``limit``.

        Returns the items and the key of the last item when more may follow, else None.
        """
        with self.lock:
            keys = self._sorted_keys.get(resource, [])
            histories = self._histories.get(resource, {})
            if after is not None:
                start = bisect.bisect_right(keys, after)
            elif namespace is not None:
                start = bisect.bisect_left(keys, (namespace, ""))
            else:
                start = 0
            items: list[JsonObject] = []
            for index in range(start, len(keys)):
                key = keys[index]
                if namespace is not None and key[0] != namespace:
                    if key[0] > namespace:
                        break
                    continue
                obj = _version_at(histories[key], at)
                if obj is None or not predicate(obj):
                    continue
                if limit is not None and len(items) == limit:
                    return items, _key_of(items[-1])
                items.append(obj)
            return items, None

    def iter_current(self, resource: str) -> Iterator[JsonObject]:
        """Every current object of a resource, in key order (a snapshot taken under the lock)."""
        with self.lock:
            histories = self._histories.get(resource, {})
            current = [histories[key][-1][1] for key in self._sorted_keys.get(resource, [])]
        return (obj for obj in current if obj is not None)

    # -- writes ----------------------------------------------------------------------------

    def put(self, resource: str, obj: JsonObject, event_type: EventType) -> JsonObject:
        """Store a created or updated object under the next revision and return it."""
        with self.lock:
            self._revision += 1
            obj["metadata"]["resourceVersion"] = str(self._revision)
            self._record(resource, _key_of(obj), obj, event_type, obj)
            return obj

    def delete(self, resource: str, obj: JsonObject) -> JsonObject:
        """Remove an object; the returned final state carries the deletion's revision."""
        with self.lock:
            self._revision += 1
            final = {**obj, "metadata": {**obj["metadata"], "resourceVersion": str(self._revision)}}
            self._record(resource, _key_of(obj), None, "DELETED", final)
            return final

    def _record(
        self,
        resource: str,
        key: ObjectKey,
        value: JsonObject | None,
        event_type: EventType,
        event_object: JsonObject,
    ) -> None:
        histories = self._histories.setdefault(resource, {})
        history = histories.get(key)
        previous = history[-1][1] if history else None
        if history is None:
            history = histories[key] = []
            bisect.insort(self._sorted_keys.setdefault(resource, []), key)
        history.append((self._revision, value))
        self._events.append(
            StoredEvent(self._revision, event_type, resource, event_object, previous)
        )
        self._event_revisions.append(self._revision)
        if self._journal is not None:
            self._journal.append(self._revision, resource, key, value)
        self.lock.notify_all()

    # -- history ---------------------------------------------------------------------------

    def compact(self, *, expire_watches: bool) -> int:
        """Drop history up to the current revision; return the new compacted revision.

        With ``expire_watches`` every open watch ends with a 410 ERROR event; without it only
        watches that still had compacted events to deliver do.
        """
        with self.lock:
            self._compacted = self._revision
            for resource, histories in self._histories.items():
                for key in list(histories):
                    history = histories[key]
                    latest = history[-1]
                    if latest[1] is None:
                        del histories[key]
                        keys = self._sorted_keys[resource]
                        del keys[bisect.bisect_left(keys, key)]
                    else:
                        histories[key] = [latest]
            self._events_base += len(self._events)
            self._events = []
            self._event_revisions = []
            if expire_watches:
                self._expiry_generation += 1
            self.lock.notify_all()
            return self._compacted

    @property
    def expiry_generation(self) -> int:
        """Changes whenever compaction expires every open watch."""
        return self._expiry_generation

    def cursor_after(self, revision: int) -> int:
        """The position in the event history of the first event newer than ``revision``."""
        with self.lock:
            return self._events_base + bisect.bisect_right(self._event_revisions, revision)

    def events_from(self, cursor: int) -> tuple[list[StoredEvent], int]:
        """Events from position ``cursor`` on, and the position after them.

        Raises ``WatchesExpired`` when some of those events were compacted away.
        """
        with self.lock:
            if cursor < self._events_base:
                raise WatchesExpired
            events = self._events[cursor - self._events_base :]
            return events, cursor + len(events)

    def end_cursor(self) -> int:
        """The position after the latest event."""
        with self.lock:
            return self._events_base + len(self._events)

    def notify_watchers(self) -> None:
        """Wake every waiting watch (to notice a drop request or a shutdown)."""
        with self.lock:
            self.lock.notify_all()

    # -- persistence -----------------------------------------------------------------------

    @property
    def journal(self) -> Journal | None:
        """The state file's journal, when the store persists."""
        return self._journal

    def close_journal(self) -> None:
        """Stop persisting (the state file is about to be discarded)."""
        with self.lock:
            if self._journal is not None:
                self._journal.close()
                self._journal = None

    def _load(self, journal: Journal) -> None:
        revision, objects = journal.load()
        for resource, obj in objects:
            key = _key_of(obj)
            self._histories.setdefault(resource, {})[key] = [
                (int(obj["metadata"]["resourceVersion"]), obj)
            ]
            bisect.insort(self._sorted_keys.setdefault(resource, []), key)
        self._revision = revision
        # A restarted API server rebuilds its watch cache at the current revision: older
        # revisions are gone for watches and continue tokens (assumption, matches upstream).
        self._compacted = revision
        journal.rewrite(revision, objects)


def _key_of(obj: JsonObject) -> ObjectKey:
    metadata = obj["metadata"]
    return (metadata.get("namespace") or "", metadata["name"])


def _version_at(history: list[tuple[int, JsonObject | None]], revision: int) -> JsonObject | None:
    for written_at, value in reversed(history):
        if written_at <= revision:
            return value
    return None
