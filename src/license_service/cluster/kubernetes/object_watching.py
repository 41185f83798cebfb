"""Following a few whole objects (a Secret, the IBMLicensing resources) with the one loop.

The pod collector decodes thousands of objects into projections; the service also
follows a handful of objects whose whole content matters (the token Secret, the
cluster's ``IBMLicensing`` resources). ``ObjectWatcher`` runs the collector's loop
(``list_watch.ListWatch``, with its 410, backoff and interrupt rules) over a target,
keeps a map ``name -> JSON object`` equal to what the target selects, and hands a
copy of the whole map to ``on_change`` after every list and every block of events
that changed it. It owns the loop's thread (``start``, ``stop``, ``wait_listed``) and
its health (``last_error``, ``trouble_since``).

- 410 Gone: the loop lists again; the callback gets the fresh map, so an object
  deleted while the watch was down is seen as gone.
- A callback that raises is counted as a failure; the loop lists again after a backoff
  delay, so the reaction (say, recreating a deleted Secret) is retried until it
  succeeds. An expected condition (a ``LicenseServiceError``: the Secret may not be
  created, its namespace is gone) is logged as one line, once per streak, with the
  message that says what to do; anything else is a defect, logged with its traceback.
- A target with ``missing_means_empty`` whose list answers 404 (a resource type not
  installed) hands the callback an empty map, and is retried as a failure.

Objects are keyed by ``metadata.name``: every target selects objects of one namespace
or cluster-scoped ones. ``run(iterations=n)`` ends after n passes, for tests.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from license_service.cluster.decoding import (
    ListPage,
    ObjectKey,
    WatchEvent,
    key_of_json,
    resource_version_of,
)
from license_service.cluster.kubernetes.counters import CollectorCounters
from license_service.cluster.kubernetes.failures import (
    CallbackFailure,
    Failure,
    StreamFailure,
    describe_failure,
)
from license_service.cluster.kubernetes.list_watch import ListWatch, WatchTarget
from license_service.cluster.kubernetes.watch_options import WatchOptions
from license_service.errors import LicenseServiceError

__all__ = [
    "DEFAULT_STOP_TIMEOUT_SECONDS",
    "CallbackFailure",
    "JsonObject",
    "JsonObjects",
    "ObjectWatcher",
    "ObjectsChanged",
    "WatchTarget",
]

logger = logging.getLogger(__name__)

JsonObject = Mapping[str, Any]
"""A Kubernetes object as the API sent it (decoded JSON)."""
ObjectsChanged = Callable[[Mapping[str, JsonObject]], None]
"""Receives every object selected now, by name, after each change."""

DEFAULT_STOP_TIMEOUT_SECONDS: Final = 5.0
_PUT_EVENTS: Final = frozenset({"ADDED", "MODIFIED"})


class JsonObjects:
    """The loop's ``Decoder`` of whole objects: ``json.loads``, keyed as the API names them."""

    def __init__(self, description: str) -> None:
        self._description = description

    def page(self, body: bytes) -> ListPage[JsonObject]:
        """Every named item of a list answer; ``StreamFailure`` when the answer is no list."""
        document = json.loads(body)
        items = document.get("items") if isinstance(document, Mapping) else None
        version = resource_version_of(document)
        if version is None or not isinstance(items, list | None):
            raise StreamFailure(
                f"the answer is not a list of {self._description} "
                "(no metadata.resourceVersion or items)",
                kind="decode",
            )
        objects = [(key, item) for item in items or () if (key := key_of_json(item)) is not None]
        return ListPage(objects, version, None)

    def event(self, line: bytes) -> WatchEvent[JsonObject]:
        """One watch line; ``StreamFailure`` when it is not JSON or not a watch event."""
        try:
            event = json.loads(line)
        except ValueError as error:
            raise StreamFailure(f"a watch line is not JSON: {error}", kind="decode") from None
        event_type = event.get("type") if isinstance(event, dict) else None
        obj = event.get("object") if isinstance(event, dict) else None
        if not isinstance(event_type, str) or not isinstance(obj, dict):
            raise StreamFailure("a watch line is not a watch event", kind="decode")
        version = resource_version_of(obj)
        if event_type in _PUT_EVENTS or event_type == "DELETED":
            key = key_of_json(obj)
            return WatchEvent(event_type, key, obj if event_type != "DELETED" else None, version)
        return WatchEvent(event_type, None, None, version)


class ObjectWatcher:
    """Keeps the objects ``target`` selects, and tells ``on_change`` about every change."""

    def __init__(
        self,
        target: WatchTarget,
        *,
        on_change: ObjectsChanged,
        counters: CollectorCounters,
        options: WatchOptions,
        clock: Callable[[], datetime],
        sleep: Callable[[float], object] | None = None,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        """``sleep(seconds)`` waits between retries (default: on the stop event, ending early)."""
        self._map = _ObjectMap(on_change, description=target.description)
        self._thread: threading.Thread | None = None
        self._loop = ListWatch[JsonObject](
            target,
            decoder=JsonObjects(target.description),
            sink=self._map,
            counters=counters,
            options=options,
            clock=clock,
            sleep=sleep,
            uniform=uniform,
        )

    @property
    def target(self) -> WatchTarget:
        """What is watched."""
        return self._loop.target

    @property
    def resource_version(self) -> str | None:
        """The version the next watch starts from (``None``: the next pass lists)."""
        return self._loop.resource_version

    @property
    def last_error(self) -> str | None:
        """The latest unresolved failure (no secrets), or ``None`` while all is well."""
        return self._map.health()[0]

    @property
    def trouble_since(self) -> datetime | None:
        """Since when the loop has been failing, or ``None``."""
        return self._map.health()[1]

    @property
    def running(self) -> bool:
        """Whether the thread of ``start`` is alive."""
        return self._thread is not None and self._thread.is_alive()

    def wait_listed(self, timeout: float) -> bool:
        """Wait until a first list was handed to ``on_change``; False after ``timeout`` seconds."""
        return self._map.listed_once.wait(timeout)

    def start(self) -> None:
        """Run the loop in a daemon thread (once)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self.run,
            name=f"license-service-watch-{self.target.resource}",
            daemon=True,
        )
        self._thread.start()

    def stop(self, *, timeout: float = DEFAULT_STOP_TIMEOUT_SECONDS) -> None:
        """End the loop: cut its open request and wait up to ``timeout`` seconds."""
        self._loop.stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=timeout)

    def run(self, *, iterations: int | None = None) -> None:
        """List and watch until stopped, or after ``iterations`` passes; never raises."""
        self._loop.run(iterations=iterations)


class _ObjectMap:
    """The loop's sink: the objects by name, the callback, and the health of the watch."""

    def __init__(self, on_change: ObjectsChanged, *, description: str) -> None:
        self._on_change = on_change
        self._description = description
        self._objects: dict[str, JsonObject] = {}
        self.listed_once = threading.Event()
        self._lock = threading.Lock()
        self._last_error: str | None = None
        self._trouble_since: datetime | None = None

    def health(self) -> tuple[str | None, datetime | None]:
        """The latest unresolved failure and since when the watch has been failing."""
        with self._lock:
            return self._last_error, self._trouble_since

    def on_listed(
        self,
        objects: dict[ObjectKey, JsonObject],
        resource_version: str | None,
        *,
        at: datetime,  # noqa: ARG002 (the sink protocol's; this map keeps no time)
    ) -> None:
        """A list: the map becomes its objects (none for a resource type not installed)."""
        if resource_version is not None:
            self._current()
        self._objects = {name: obj for (_, name), obj in objects.items()}
        self._notify()
        self.listed_once.set()

    def on_events(
        self,
        events: list[WatchEvent[JsonObject]],
        *,
        at: datetime,  # noqa: ARG002 (the sink protocol's)
    ) -> None:
        """Apply a block of events; tell ``on_change`` when the map changed."""
        self._current()
        changed = False
        for event in events:
            if event.key is None:
                continue
            name = event.key[1]
            if event.object is not None:
                self._objects[name] = event.object
                changed = True
            elif event.type == "DELETED":
                changed = self._objects.pop(name, None) is not None or changed
        if changed:
            self._notify()

    def on_current(self, *, at: datetime) -> None:  # noqa: ARG002 (the sink protocol's)
        """A watch ended normally."""
        self._current()

    def on_failure(self, failure: Failure, *, at: datetime) -> None:
        """Remember the failure for ``last_error`` and ``trouble_since``."""
        with self._lock:
            self._last_error = failure.message
            if self._trouble_since is None:
                self._trouble_since = at

    def _current(self) -> None:
        with self._lock:
            self._last_error = None
            self._trouble_since = None

    def _notify(self) -> None:
        try:
            self._on_change(dict(self._objects))
        except LicenseServiceError as error:
            # Expected (RBAC, a missing namespace...): the loop logs the message once.
            cause = error.__cause__
            kind = "unexpected" if cause is None else describe_failure(cause, action="").kind
            raise CallbackFailure(
                str(error), kind="callback" if kind == "unexpected" else kind
            ) from error
        except Exception as error:
            logger.exception("Reacting to a change of %s failed", self._description)
            raise CallbackFailure(f"{type(error).__name__}: {error}", logged=True) from error
