"""The list+watch loop of a few whole objects (a Secret, the IBMLicensing resources).

The pod collector (``watching``) decodes thousands of objects into projections; the
service also follows a handful of objects whose whole content matters (the token
Secret, the cluster's ``IBMLicensing`` resources). ``ObjectWatcher`` keeps a map
``name -> JSON object`` equal to what the request selects and hands a copy of the
whole map to ``on_change`` after every list and every chunk of events that changed it.
It runs the same protocol as the collector, with the same parts (``backoff``,
``failures``, ``raw_responses``, ``counters``, ``watch_options``):

    list (one page) -> watch from its resourceVersion (bookmarks on) -> watch again ...

- 410 Gone (at the watch's start or as an ERROR event): list again; the callback gets
  the fresh map, so an object deleted while the watch was down is seen as gone.
- A failure (connection refused or cut, 5xx, a line that is not JSON): recorded
  (``last_error``, counters), then a backoff delay and a watch from the last version.
- A callback that raises is logged with its traceback and counted as a failure; the
  loop lists again after a backoff delay, so the reaction (say, recreating a deleted
  Secret) is retried until it succeeds.

Objects are keyed by ``metadata.name``: every target selects objects of one namespace
or cluster-scoped ones. ``run(iterations=n)`` ends after n passes, for tests; the
thread of ``start`` stops on ``stop``, which also cuts a read in progress.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from kubernetes.client.exceptions import ApiException

from license_service.cluster.kubernetes.backoff import Backoff
from license_service.cluster.kubernetes.counters import CollectorCounters
from license_service.cluster.kubernetes.failure_streaks import FailureStreak
from license_service.cluster.kubernetes.failures import (
    GONE,
    ResourceExpired,
    StreamFailure,
    describe_failure,
    status_code,
    status_message,
)
from license_service.cluster.kubernetes.raw_responses import (
    interrupt,
    read_document,
)
from license_service.cluster.kubernetes.resource_kinds import resource_version_of
from license_service.cluster.kubernetes.watch_options import WatchOptions
from license_service.cluster.kubernetes.watch_streams import follow_watch, open_watch

if TYPE_CHECKING:
    from urllib3.response import HTTPResponse

logger = logging.getLogger(__name__)

JsonObject = Mapping[str, Any]
"""A Kubernetes object as the API sent it (decoded JSON)."""
ObjectsChanged = Callable[[Mapping[str, JsonObject]], None]
"""Receives every object selected now, by name, after each change."""

_PUT_EVENTS: Final = frozenset({"ADDED", "MODIFIED"})
NOT_FOUND: Final = 404
DEFAULT_STOP_TIMEOUT_SECONDS: Final = 5.0


class CallbackFailure(Exception):
    """``on_change`` raised; the loop lists again after a delay to retry the reaction."""


@dataclass(frozen=True, slots=True)
class WatchTarget:
    """What to list and watch: a resource label for counters, a description, the request.

    ``request(timeout=(connect, read), **parameters)`` sends one list or watch
    request (parameters of the client's list call) and returns the unread response.
    With ``missing_means_empty``, a list answered 404 (a resource type not installed)
    counts as an empty list for ``on_change``, and is still retried as a failure.
    """

    resource: str
    description: str
    request: Callable[..., HTTPResponse]
    missing_means_empty: bool = False


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
        self._target = target
        self._on_change = on_change
        self._counters = counters
        self._options = options
        self._clock = clock
        self._stop = threading.Event()
        self._sleep = sleep if sleep is not None else self._stop.wait
        self._backoff = Backoff(
            initial=options.backoff_initial_seconds,
            cap=options.backoff_cap_seconds,
            uniform=uniform,
        )
        self._objects: dict[str, JsonObject] = {}
        self._resource_version: str | None = None
        self._listed_once = threading.Event()
        self._state_lock = threading.Lock()
        self._last_error: str | None = None
        self._trouble_since: datetime | None = None
        self._streak = FailureStreak(logger)
        self._active: HTTPResponse | None = None
        self._thread: threading.Thread | None = None

    @property
    def target(self) -> WatchTarget:
        """What is watched."""
        return self._target

    @property
    def resource_version(self) -> str | None:
        """The version the next watch starts from (``None``: the next pass lists)."""
        return self._resource_version

    @property
    def last_error(self) -> str | None:
        """The latest unresolved failure (no secrets), or ``None`` while all is well."""
        with self._state_lock:
            return self._last_error

    @property
    def trouble_since(self) -> datetime | None:
        """Since when the loop has been failing, or ``None``."""
        with self._state_lock:
            return self._trouble_since

    @property
    def running(self) -> bool:
        """Whether the thread of ``start`` is alive."""
        return self._thread is not None and self._thread.is_alive()

    def wait_listed(self, timeout: float) -> bool:
        """Wait until a first list was handed to ``on_change``; False after ``timeout`` seconds."""
        return self._listed_once.wait(timeout)

    def start(self) -> None:
        """Run the loop in a daemon thread (once)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self.run,
            name=f"license-service-watch-{self._target.resource}",
            daemon=True,
        )
        self._thread.start()

    def stop(self, *, timeout: float = DEFAULT_STOP_TIMEOUT_SECONDS) -> None:
        """End the loop: cut its open request and wait up to ``timeout`` seconds."""
        self._stop.set()
        self._interrupt()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=timeout)

    def run(self, *, iterations: int | None = None) -> None:
        """List and watch until stopped, or after ``iterations`` passes; never raises."""
        passes = 0
        while not self._stop.is_set() and (iterations is None or passes < iterations):
            passes += 1
            action = f"list {self._target.description}"
            try:
                if self._resource_version is None:
                    self._list()
                action = f"watch {self._target.description}"
                self._watch()
            except ResourceExpired as error:
                self._record(error, action=action)
                self._resource_version = None
                # The first 410 after progress is routine compaction: list again at once.
                delay = self._backoff.next_delay()
                if self._backoff.failures > 1:
                    self._sleep(delay)
            except CallbackFailure as error:
                self._record(error, action=f"react to a change of {self._target.description}")
                self._resource_version = None
                self._sleep(self._backoff.next_delay())
            except Exception as error:  # the loop must survive anything
                if self._stop.is_set():
                    return
                self._record(error, action=action)
                self._sleep(self._backoff.next_delay())

    # -- list ------------------------------------------------------------------------------

    def _list(self) -> None:
        if self._listed_once.is_set():
            self._counters.count_relist(self._target.resource)
        self._counters.count_list_call(self._target.resource)
        try:
            response = self._target.request(timeout=self._list_timeout())
        except ApiException as error:
            if status_code(error) == NOT_FOUND and self._target.missing_means_empty:
                self._objects = {}
                self._notify()
                self._listed_once.set()
            raise
        self._track(response)
        try:
            document = read_document(response)
        finally:
            self._track(None)
        items = document.get("items") if isinstance(document, Mapping) else None
        version = resource_version_of(document)
        if version is None or not isinstance(items, list | None):
            raise StreamFailure(
                f"the answer is not a list of {self._target.description} "
                "(no metadata.resourceVersion or items)",
                kind="decode",
            )
        self._objects = {name: item for item in items or () if (name := _name_of(item)) is not None}
        self._resource_version = version
        self._confirm()
        self._notify()
        self._listed_once.set()

    # -- watch -----------------------------------------------------------------------------

    def _watch(self) -> None:
        self._counters.count_watch_call(self._target.resource)
        response = open_watch(
            self._target.request, options=self._options, resource_version=self._resource_version
        )
        ended_at_once = follow_watch(response, apply=self._apply, track=self._track)
        if self._stop.is_set():
            return
        if ended_at_once:
            self._sleep(self._backoff.next_delay())
            return
        self._confirm()

    def _apply(self, lines: list[bytes]) -> None:
        """Apply one chunk of watch lines; raise after the good ones for an ERROR or bad line."""
        changed = False
        counted: dict[str, int] = {}
        failure: Exception | None = None
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError as error:
                failure = StreamFailure(f"a watch line is not JSON: {error}", kind="decode")
                break
            event_type = event.get("type") if isinstance(event, dict) else None
            obj = event.get("object") if isinstance(event, dict) else None
            if not isinstance(event_type, str) or not isinstance(obj, dict):
                failure = StreamFailure("a watch line is not a watch event", kind="decode")
                break
            counted[event_type] = counted.get(event_type, 0) + 1
            if event_type == "ERROR":
                failure = _error_event(obj)
                break
            name = _name_of(obj)
            if event_type in _PUT_EVENTS and name is not None:
                self._objects[name] = obj
                changed = True
            elif event_type == "DELETED" and name is not None:
                changed = self._objects.pop(name, None) is not None or changed
            self._resource_version = resource_version_of(obj) or self._resource_version
        self._counters.count_events(self._target.resource, counted)
        if sum(counted.values()) > counted.get("ERROR", 0):
            self._confirm()
        if changed:
            self._notify()
        if failure is not None:
            raise failure

    # -- bookkeeping -----------------------------------------------------------------------

    def _notify(self) -> None:
        try:
            self._on_change(dict(self._objects))
        except Exception as error:
            logger.exception("Reacting to a change of %s failed", self._target.description)
            raise CallbackFailure(f"{type(error).__name__}: {error}") from error

    def _list_timeout(self) -> tuple[float, float]:
        return (self._options.connect_timeout_seconds, self._options.read_timeout_seconds)

    def _track(self, response: HTTPResponse | None) -> None:
        with self._state_lock:
            self._active = response
        if response is not None and self._stop.is_set():
            interrupt(response)

    def _interrupt(self) -> None:
        with self._state_lock:
            response = self._active
        if response is not None:
            interrupt(response)

    def _confirm(self) -> None:
        with self._state_lock:
            recovered = self._last_error is not None
            self._last_error = None
            self._trouble_since = None
        if recovered:
            logger.info("Watch of %s is current again", self._target.description)
        self._backoff.reset()
        self._streak.end()

    def _record(self, error: BaseException, *, action: str) -> None:
        failure = describe_failure(error, action=action)
        self._counters.count_error(self._target.resource, failure.kind)
        with self._state_lock:
            self._last_error = failure.message
            if self._trouble_since is None:
                self._trouble_since = self._clock()
        if isinstance(error, CallbackFailure):
            return  # logged with its traceback where it happened
        self._streak.log(error, failure)


def _name_of(obj: object) -> str | None:
    if not isinstance(obj, Mapping):
        return None
    metadata = obj.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    return name if isinstance(name, str) and name else None


def _error_event(status: dict[str, object]) -> Exception:
    code = status.get("code")
    message = status_message(status)
    if code == GONE:
        return ResourceExpired(f"the server expired the watch (410): {message}")
    kind = f"http_{code}" if isinstance(code, int) else "decode"
    return StreamFailure(f"the server ended the watch with an error: {message}", kind=kind)
