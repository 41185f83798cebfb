"""Watch streams: events after a resourceVersion, bookmarks, timeouts, 410 and drops.

A watch is a generator of JSON lines (``{"type": …, "object": …}``), as upstream streams
them. Semantics, from "API concepts" (efficient detection of changes, watch bookmarks):

- ``resourceVersion`` unset or ``0``: first a synthetic ADDED for every current object, then
  changes; ``resourceVersion=N``: every change after N, in revision order.
- ``sendInitialEvents=true`` (watch-list; needs ``resourceVersionMatch=NotOlderThan`` and
  bookmarks): the current objects as ADDED, then a BOOKMARK annotated
  ``k8s.io/initial-events-end: "true"``, then changes.
- With label/field selectors an object that starts matching arrives as ADDED and one that
  stops matching as DELETED (its last matching state at the new revision), as the watch cache
  does.
- ``allowWatchBookmarks=true``: every ``bookmark_interval`` seconds a BOOKMARK whose object
  has only kind, apiVersion and ``metadata.resourceVersion``: every event up to that revision
  has been sent. Assumption: upstream sends them about once a minute and before a timeout;
  the fake sends them on a fixed, configurable interval, also when nothing changed.
- ``timeoutSeconds``: the stream ends cleanly after that long (default: the server's).
- A start revision older than the last compaction: HTTP 410 before the stream starts (or,
  with ``expired_start="event"``, a 200 stream holding one ERROR event, which is what the
  upstream watch cache does). History compacted during a watch: an ERROR event with a
  ``Status`` (code 410, reason Expired), then the stream ends.
- ``drop()`` on the session (or the server's ``drop_watches``) ends the stream without the
  terminating chunk: the client sees the connection break.
- ``error_status`` set on an open session (the server's ``error_watches``): an ERROR event
  with a ``Status`` of that code, then the stream ends cleanly, as upstream ends a watch
  whose storage watch failed. ``cut_next_event`` (``cut_watches_mid_event``): the handler
  sends half of the next event's line, then breaks the connection.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .field_selectors import FieldSelector, parse_field_selector
from .label_selectors import LabelSelector, parse_label_selector
from .object_store import ObjectStore, StoredEvent, WatchesExpired
from .resource_types import ResourceType
from .statuses import FAILURE_REASONS, ApiError, bad_request, failure_status, gone

JsonObject = dict[str, Any]
ExpiredStart = Literal["status", "event"]


class WatchDropped(Exception):
    """The stream must end abruptly (connection closed without a clean end)."""


@dataclass
class WatchSession:
    """One open watch; the server can drop or stop it from another thread."""

    resource_type: ResourceType
    dropped: bool = False
    stopped: bool = False
    events_sent: int = 0
    error_status: int | None = None
    cut_next_event: bool = False


class WatchRegistry:
    """The open watches of a server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._objects: dict[int, WatchSession] = {}

    def add(self, session: WatchSession) -> None:
        """Register an open watch."""
        with self._lock:
            self._objects[id(session)] = session

    def remove(self, session: WatchSession) -> None:
        """Forget a finished watch."""
        with self._lock:
            self._objects.pop(id(session), None)

    def open_sessions(self) -> list[WatchSession]:
        """The watches open now."""
        with self._lock:
            return list(self._objects.values())

    def sessions_of(self, resource: str | None) -> list[WatchSession]:
        """The open watches of ``resource`` (a plural such as ``pods``; None: all)."""
        return [
            session
            for session in self.open_sessions()
            if resource is None or resource == session.resource_type.plural
        ]

    def drop_all(self, *, stopping: bool = False) -> int:
        """Mark every open watch dropped (or stopped); return how many."""
        with self._lock:
            sessions = list(self._objects.values())
        for session in sessions:
            session.dropped = True
            session.stopped = session.stopped or stopping
        return len(sessions)


@dataclass(frozen=True)
class WatchPlan:
    """A parsed watch request, checked against the store before the stream starts."""

    resource_type: ResourceType
    namespace: str | None
    labels: LabelSelector
    fields: FieldSelector
    start: int | None
    initial_events_end: bool
    bookmarks: bool
    timeout: float
    expired: bool


def plan_watch(
    store: ObjectStore,
    resource_type: ResourceType,
    *,
    namespace: str | None,
    query: Mapping[str, str],
    default_timeout: float,
    expired_start: ExpiredStart,
) -> WatchPlan:
    """Check a watch request; raise 410 now when its start is compacted and answers so."""
    requested = query.get("resourceVersion", "")
    start: int | None = None
    if requested not in ("", "0"):
        try:
            start = int(requested)
        except ValueError as error:
            raise bad_request(f'invalid resource version "{requested}"') from error
    timeout = default_timeout
    if query.get("timeoutSeconds"):
        try:
            timeout = float(query["timeoutSeconds"])
        except ValueError as error:
            raise bad_request(
                f"timeoutSeconds must be a number, got {query['timeoutSeconds']!r}"
            ) from error
    initial_events_end = query.get("sendInitialEvents") == "true"
    if initial_events_end:
        if query.get("resourceVersionMatch") != "NotOlderThan" or query.get(
            "allowWatchBookmarks"
        ) not in ("true", "1"):
            raise ApiError(
                422,
                "Invalid",
                'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents needs '
                "resourceVersionMatch=NotOlderThan and allowWatchBookmarks=true",
            )
        # The state "not older than" the given version is the current state.
        start = None
    expired = start is not None and store.is_compacted(start)
    if expired and expired_start == "status":
        raise gone(f"too old resource version: {start} ({store.compacted_revision})")
    return WatchPlan(
        resource_type=resource_type,
        namespace=namespace,
        labels=parse_label_selector(query.get("labelSelector")),
        fields=parse_field_selector(query.get("fieldSelector"), resource_type),
        start=start,
        initial_events_end=initial_events_end,
        bookmarks=query.get("allowWatchBookmarks") in ("true", "1"),
        timeout=timeout,
        expired=expired,
    )


def stream_events(
    store: ObjectStore,
    plan: WatchPlan,
    session: WatchSession,
    *,
    bookmark_interval: float,
) -> Iterator[bytes]:
    """The lines of a watch stream; raises ``WatchDropped`` to end it abruptly."""
    with store.lock:
        generation = store.expiry_generation
        # Compacted when the request was checked, or since: the history after the start is
        # gone (the cursor would skip it), so the watch expires as the API server's does.
        gone_at_start = plan.expired or (plan.start is not None and store.is_compacted(plan.start))
        compacted_at_start = store.compacted_revision
        initial = []
        if plan.start is None:
            initial = [
                obj for obj in store.iter_current(plan.resource_type.key) if _selected(plan, obj)
            ]
            cursor = store.end_cursor()
            seen = store.revision
        else:
            cursor = store.cursor_after(plan.start)
            seen = plan.start
    if gone_at_start:
        yield _expired_line(plan.start or 0, compacted_at_start)
        return
    for obj in initial:
        yield _line("ADDED", obj)
    if plan.initial_events_end:
        yield _bookmark(plan, seen, annotations={"k8s.io/initial-events-end": "true"})
    started = time.monotonic()
    deadline = started + plan.timeout
    next_bookmark = started + bookmark_interval
    while True:
        events: list[StoredEvent] = []
        bookmark_due = False
        expired = False
        with store.lock:
            while True:
                if session.dropped or session.stopped:
                    raise WatchDropped
                if session.error_status is not None:
                    break
                if store.expiry_generation != generation:
                    expired = True
                    break
                try:
                    events, cursor = store.events_from(cursor)
                except WatchesExpired:
                    expired = True
                    break
                now = time.monotonic()
                bookmark_due = plan.bookmarks and now >= next_bookmark
                if events or bookmark_due:
                    break
                if now >= deadline:
                    return
                wake_at = min(deadline, next_bookmark) if plan.bookmarks else deadline
                store.lock.wait(max(0.0, wake_at - now))
            compacted = store.compacted_revision
            # Every event up to the current revision has now been examined.
            seen_before, seen = seen, store.revision
        if expired:
            # Lines are yielded outside the lock: a slow client must not block writers.
            yield _expired_line(seen_before, compacted)
            return
        if session.error_status is not None:
            yield error_line(session.error_status)
            return
        for event in events:
            line = _event_line(plan, event)
            if line is not None:
                session.events_sent += 1
                yield line
        if bookmark_due:
            next_bookmark = time.monotonic() + bookmark_interval
            yield _bookmark(plan, seen)


def _bookmark(
    plan: WatchPlan, revision: int, *, annotations: dict[str, str] | None = None
) -> bytes:
    metadata: JsonObject = {"resourceVersion": str(revision)}
    if annotations:
        metadata["annotations"] = annotations
    return _line(
        "BOOKMARK",
        {
            "kind": plan.resource_type.kind,
            "apiVersion": plan.resource_type.api_version,
            "metadata": metadata,
        },
    )


def _event_line(plan: WatchPlan, event: StoredEvent) -> bytes | None:
    if event.resource != plan.resource_type.key:
        return None
    now_matches = event.type != "DELETED" and _selected(plan, event.obj)
    before_matches = event.previous is not None and _selected(plan, event.previous)
    if event.type == "DELETED":
        return _line("DELETED", event.obj) if _selected(plan, event.obj) else None
    if now_matches and before_matches:
        return _line(event.type, event.obj)
    if now_matches:
        return _line("ADDED", event.obj)
    if before_matches and event.previous is not None:
        metadata = {**event.previous["metadata"], "resourceVersion": str(event.resource_version)}
        return _line("DELETED", {**event.previous, "metadata": metadata})
    return None


def _selected(plan: WatchPlan, obj: JsonObject) -> bool:
    metadata = obj["metadata"]
    if plan.namespace is not None and metadata.get("namespace") != plan.namespace:
        return False
    return plan.labels.matches(metadata.get("labels")) and plan.fields.matches(obj)


def error_line(code: int) -> bytes:
    """An ERROR event whose ``Status`` has ``code`` (e.g. 500 InternalError)."""
    status = failure_status(
        code=code,
        reason=FAILURE_REASONS.get(code, "InternalError"),
        message=f"injected watch error {code}",
    )
    return _line("ERROR", status)


def _expired_line(revision: int, compacted: int) -> bytes:
    status = failure_status(
        code=410,
        reason="Expired",
        message=f"too old resource version: {revision} ({compacted})",
    )
    return _line("ERROR", status)


def _line(event_type: str, obj: JsonObject) -> bytes:
    return json.dumps({"type": event_type, "object": obj}, separators=(",", ":")).encode() + b"\n"
