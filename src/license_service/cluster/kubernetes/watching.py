"""The list+watch loop of one resource, kept running through every failure.

    list (pages of ``page_size``) -> watch from the list's resourceVersion -> watch again
    from the last version seen -> ... until stopped

- List: pages with ``limit``/``continue`` from one snapshot; a 410 for an expired
  continue token starts the list over (up to ``max_list_restarts`` times, then it is
  a failure like any other). The map is replaced only when the last page is in.
- Watch: ``allowWatchBookmarks=true`` and ``timeoutSeconds``; ADDED and MODIFIED put
  the projection, DELETED removes it, every event and BOOKMARK moves the
  resourceVersion on. A watch the server ends normally is simply started again from
  that version (no re-list); one that ends at once without a single line waits a
  backoff delay first, so a misbehaving proxy cannot make the loop spin.
- 410 Gone, at the watch's start (HTTP status) or mid-stream (ERROR event with code
  410): the version was compacted away; list again and replace the map, so objects
  deleted meanwhile disappear and none is counted twice.
- Anything else (connection refused or cut, 5xx, a line that is not JSON, an ERROR
  event): record it, wait ``Backoff.next_delay()`` and watch again from the last
  version. The backoff starts over once a watch delivers something.
- Pages and watch lines are decoded from their bytes by ``typed_objects`` (a schema
  of the projection's fields); whatever it refuses is decoded again the
  ``json.loads`` + ``kubernetes_json`` way, so a malformed object is named as before.
  An object that way refuses too is skipped (``object_decoding``); nothing stops the
  loop but the stop event, which ``interrupt`` makes take effect at once even while
  a read is blocked. ``run(iterations=n)`` ends after n passes, for tests.
- After each completed list the garbage collector freezes what is alive
  (``gc.freeze``, after a full collection when it is a re-list): the projections
  held for hours are then no longer walked by every full collection.
"""

from __future__ import annotations

import functools
import gc
import json
import logging
import random
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Final

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from license_service.cluster.kubernetes.backoff import Backoff
from license_service.cluster.kubernetes.cluster_cache import Change, ClusterCache
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
from license_service.cluster.kubernetes.object_decoding import ObjectDecoder
from license_service.cluster.kubernetes.projection_sharing import SharedValues
from license_service.cluster.kubernetes.raw_responses import interrupt
from license_service.cluster.kubernetes.resource_kinds import (
    ObjectKey,
    Projection,
    ResourceKind,
    key_of,
    key_of_json,
    resource_version_of,
)
from license_service.cluster.kubernetes.watch_options import WatchOptions
from license_service.cluster.kubernetes.watch_streams import follow_watch, open_watch
from license_service.cluster.typed_objects import TypedEvent, typed_decoder

if TYPE_CHECKING:
    from urllib3.response import HTTPResponse

logger = logging.getLogger(__name__)

_PUT_EVENTS: Final = frozenset({"ADDED", "MODIFIED"})


class _Stopped(Exception):
    """The stop event was set while a list was in progress."""


class ResourceWatcher:
    """Keeps the cache's map of one resource equal to the cluster's objects."""

    def __init__(
        self,
        kind: ResourceKind,
        *,
        core: client.CoreV1Api,
        cache: ClusterCache,
        counters: CollectorCounters,
        sharing: SharedValues,
        options: WatchOptions,
        stop: threading.Event,
        clock: Callable[[], datetime],
        sleep: Callable[[float], object] | None = None,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        """``sleep(seconds)`` waits between retries (default: on ``stop``, so it ends early)."""
        self._kind = kind
        self._core = core
        self._cache = cache
        self._counters = counters
        self._decoder = ObjectDecoder(kind, sharing=sharing, counters=counters)
        self._typed = typed_decoder(kind.kind)
        self._options = options
        self._stop = stop
        self._clock = clock
        self._sleep = sleep if sleep is not None else stop.wait
        self._backoff = Backoff(
            initial=options.backoff_initial_seconds,
            cap=options.backoff_cap_seconds,
            uniform=uniform,
        )
        self._resource_version: str | None = None
        self._listed = False
        self._streak = FailureStreak(logger)
        self._active_lock = threading.Lock()
        self._active: HTTPResponse | None = None

    @property
    def kind(self) -> ResourceKind:
        """The watched resource."""
        return self._kind

    @property
    def resource_version(self) -> str | None:
        """The version the next watch starts from (``None``: the next pass lists)."""
        return self._resource_version

    def run(self, *, iterations: int | None = None) -> None:
        """List and watch until the stop event is set, or after ``iterations`` passes.

        A pass is one watch request (preceded by a list when needed) or one failure.
        Never raises for a failure of the cluster or of an object.
        """
        passes = 0
        while not self._stop.is_set() and (iterations is None or passes < iterations):
            passes += 1
            action = f"list {self._kind.name}"
            try:
                if self._resource_version is None:
                    self._list()
                action = f"watch {self._kind.name}"
                self._watch()
            except _Stopped:
                return
            except ResourceExpired as error:
                self._record(error, action=action)
                self._resource_version = None
                # The first 410 after progress is routine compaction: list again at once.
                delay = self._backoff.next_delay()
                if self._backoff.failures > 1:
                    self._sleep(delay)
            except Exception as error:  # the loop must survive anything
                if self._stop.is_set():
                    return
                self._record(error, action=action)
                self._sleep(self._backoff.next_delay())

    def interrupt(self) -> None:
        """Cut the response being read, so that a stopped loop returns at once."""
        with self._active_lock:
            response = self._active
        if response is not None:
            interrupt(response)

    # -- list ------------------------------------------------------------------------------

    def _list(self) -> None:
        if self._listed:
            self._counters.count_relist(self._kind.name)
        started = self._clock()
        objects: dict[ObjectKey, Projection] = {}
        token: str | None = None
        restarts = 0
        while True:
            if self._stop.is_set():
                raise _Stopped
            self._counters.count_list_call(self._kind.name)
            try:
                response = self._kind.request(
                    self._core,
                    timeout=self._list_timeout(),
                    limit=self._options.page_size,
                    _continue=token,
                )
            except ApiException as error:
                if status_code(error) != GONE or token is None:
                    raise
                if restarts >= self._options.max_list_restarts:
                    raise ResourceExpired(
                        f"the list's continue token expired {restarts + 1} times in a row; "
                        "the list is too slow for the server's compaction"
                    ) from error
                restarts += 1
                self._counters.count_error(self._kind.name, f"http_{GONE}")
                self._counters.count_relist(self._kind.name)
                logger.info("List of %s expired mid-way (410); listing again", self._kind.name)
                objects, token, started = {}, None, self._clock()
                continue
            body = self._read(response)
            token, version = self._take_page(body, objects)
            if not token:
                break
        self._cache.replace(self._kind.name, objects, at=started)
        self._resource_version = version
        relisted, self._listed = self._listed, True
        _freeze_survivors(collect_first=relisted)
        logger.info("Listed %d %s at resourceVersion %s", len(objects), self._kind.name, version)

    def _read(self, response: HTTPResponse) -> bytes:
        self._track(response)
        try:
            return response.data
        finally:
            response.release_conn()
            self._track(None)

    def _take_page(
        self, body: bytes, objects: dict[ObjectKey, Projection]
    ) -> tuple[str | None, str]:
        """Decode one page into ``objects``; return its continue token and resourceVersion."""
        page = self._typed.page(body)
        if page is not None:
            objects.update(page.objects)
            self._decoder.accepted(key for key, _ in page.objects)
            return page.continue_token, page.resource_version
        document = json.loads(body)
        items = document.get("items") if isinstance(document, Mapping) else None
        version = resource_version_of(document)
        if version is None or not isinstance(items, list | None):
            raise StreamFailure(
                f"the answer is not a {self._kind.kind}List (no metadata.resourceVersion or items)",
                kind="decode",
            )
        for item in items or ():
            projection = self._decoder.decode(item)
            if projection is not None:
                objects[key_of(projection)] = projection
        metadata = document.get("metadata") if isinstance(document, Mapping) else None
        token = metadata.get("continue") if isinstance(metadata, Mapping) else None
        return (token if isinstance(token, str) and token else None), version

    # -- watch -----------------------------------------------------------------------------

    def _watch(self) -> None:
        self._counters.count_watch_call(self._kind.name)
        response = open_watch(
            functools.partial(self._kind.request, self._core),
            options=self._options,
            resource_version=self._resource_version,
        )
        ended_at_once = follow_watch(response, apply=self._apply, track=self._track)
        if self._stop.is_set():
            return
        if ended_at_once:
            self._sleep(self._backoff.next_delay())
            return
        # The server ended the watch normally (timeoutSeconds): all was delivered.
        self._cache.confirm(self._kind.name, at=self._clock())
        self._progressed()

    def _apply(self, lines: list[bytes]) -> None:
        """Apply a block of watch lines; raise after the good ones for an ERROR or bad line.

        One lock, one clock reading and one counter update for the whole block.
        """
        changes: list[Change] = []
        types: dict[str, int] = {}
        version = self._resource_version
        failure: Exception | None = None
        typed = self._typed.event
        for line in lines:
            event = typed(line)
            if event is None:
                event, failure = self._event_from_json(line)
                if event is None:
                    break
            types[event.type] = types.get(event.type, 0) + 1
            if failure is not None:  # an ERROR event: counted, then raised
                break
            if event.key is not None:
                changes.append((event.key, event.projection))
            version = event.resource_version or version
        self._counters.count_events(self._kind.name, types)
        if changes or sum(types.values()) > types.get("ERROR", 0):
            self._cache.apply(self._kind.name, changes, at=self._clock())
            self._resource_version = version
            self._progressed()
            self._decoder.accepted(key for key, projection in changes if projection is not None)
        if failure is not None:
            raise failure

    def _event_from_json(
        self, line: bytes
    ) -> tuple[TypedEvent[Projection] | None, Exception | None]:
        """A line ``typed_objects`` refused, the ``json.loads`` way: the event, or why not.

        An ERROR event comes back with its failure; a line that is no event with ``None``.
        """
        try:
            event = json.loads(line)
        except ValueError as error:
            return None, StreamFailure(f"a watch line is not JSON: {error}", kind="decode")
        event_type = event.get("type") if isinstance(event, dict) else None
        obj = event.get("object") if isinstance(event, dict) else None
        if not isinstance(event_type, str) or not isinstance(obj, dict):
            return None, StreamFailure("a watch line is not a watch event", kind="decode")
        version = resource_version_of(obj)
        if event_type == "ERROR":
            return TypedEvent(event_type, None, None, version), _error_event(obj)
        if event_type in _PUT_EVENTS:
            projection = self._decoder.decode(obj)
            key = key_of(projection) if projection is not None else key_of_json(obj)
            return TypedEvent(event_type, key, projection, version), None
        key = key_of_json(obj) if event_type == "DELETED" else None
        return TypedEvent(event_type, key, None, version), None

    # -- bookkeeping -----------------------------------------------------------------------

    def _list_timeout(self) -> tuple[float, float]:
        return (self._options.connect_timeout_seconds, self._options.read_timeout_seconds)

    def _track(self, response: HTTPResponse | None) -> None:
        with self._active_lock:
            self._active = response
        if response is not None and self._stop.is_set():
            interrupt(response)

    def _progressed(self) -> None:
        if self._backoff.failures:
            logger.info("Watch of %s is current again", self._kind.name)
        self._backoff.reset()
        self._streak.end()

    def _record(self, error: BaseException, *, action: str) -> None:
        failure = describe_failure(error, action=action)
        self._counters.count_error(self._kind.name, failure.kind)
        self._cache.fail(self._kind.name, failure.message, at=self._clock())
        self._streak.log(error, failure)


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


def _error_event(status: dict[str, object]) -> Exception:
    code = status.get("code")
    message = status_message(status)
    if code == GONE:
        return ResourceExpired(f"the server expired the watch (410): {message}")
    kind = f"http_{code}" if isinstance(code, int) else "decode"
    return StreamFailure(f"the server ended the watch with an error: {message}", kind=kind)
