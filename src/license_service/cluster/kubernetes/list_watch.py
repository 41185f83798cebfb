"""The list+watch loop of every resource the service follows, kept running through every failure.

    list -> watch from the list's resourceVersion -> watch again from the last version
    seen -> ... until stopped

The collector runs one per resource (pods, nodes, namespaces), the single-object
watches one each (the token Secret, the ``IBMLicensing`` resources). What the loop
reads is turned into objects by a ``Decoder`` (projections for the collector, whole
JSON objects for the others) and handed to a ``ListWatchSink``::

    on_listed(objects, resource_version, at=)  a complete list: the whole content now
    on_events(events, at=)                     a block of watch events that arrived together
    on_current(at=)                            a watch the server ended normally: nothing missed
    on_failure(failure, at=)                   what went wrong (no secrets in it)

Every call but ``on_failure`` confirms that the sink is current as of ``at``.

- List: one request, or pages of ``page_size`` (``limit``/``continue``) for a paged
  target; a 410 for an expired continue token starts the list over (up to
  ``max_list_restarts`` times, then it is a failure like any other). ``on_listed``
  gets the objects once the last page is in. A target whose list answers 404 while
  ``missing_means_empty`` (a resource type not installed) hands ``on_listed`` an empty
  list with no resourceVersion, and is then retried as a failure.
- Watch: ``allowWatchBookmarks=true`` and ``timeoutSeconds``; every event and
  BOOKMARK moves the resourceVersion on. A watch the server ends normally is started
  again from that version (no re-list); one that ends at once without a single line
  waits a backoff delay first, so a misbehaving proxy cannot make the loop spin.
- 410 Gone, at the watch's start (HTTP status) or mid-stream (an ERROR event with code
  410): the version was compacted away; list again, so objects deleted meanwhile
  disappear and none is counted twice. The first 410 after progress lists again at
  once, a repeated one after a backoff delay.
- Anything else (connection refused or cut, 5xx, a line that is not JSON, an ERROR
  event, a page that is not a list): counted, handed to ``on_failure``, logged once per
  streak (``FailureStreak``: a streak ends with a list or a watch that delivers); then
  a backoff delay (``Backoff``, jittered) and a watch from the last version. The
  backoff starts over once a watch delivers something.
- A sink whose reaction failed raises ``CallbackFailure``: counted, recorded and logged
  like a failure (unless the sink logged a defect with its traceback already), then a
  backoff delay and a new list, so the reaction is retried until it succeeds.

Nothing stops the loop but its stop event, which ``interrupt`` makes take effect at
once even while a read is blocked. ``run(iterations=n)`` ends after n passes, for tests.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final, Generic, Protocol, TypeVar

from kubernetes.client.exceptions import ApiException

from license_service.cluster.decoding import ListPage, ObjectKey, WatchEvent
from license_service.cluster.kubernetes.backoff import Backoff
from license_service.cluster.kubernetes.counters import CollectorCounters
from license_service.cluster.kubernetes.failures import (
    GONE,
    CallbackFailure,
    Failure,
    FailureStreak,
    ResourceExpired,
    describe_failure,
    error_event_failure,
    status_code,
)
from license_service.cluster.kubernetes.raw_responses import close_response, interrupt
from license_service.cluster.kubernetes.watch_lines import line_blocks
from license_service.cluster.kubernetes.watch_options import WatchOptions

if TYPE_CHECKING:
    from urllib3.response import HTTPResponse

__all__ = ["CallbackFailure", "Decoder", "ListWatch", "ListWatchSink", "WatchTarget"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

NOT_FOUND: Final = 404
QUIET_END_SECONDS: Final = 0.5
"""A watch that ends sooner than this without a single line ended "at once"."""


@dataclass(frozen=True, slots=True)
class WatchTarget:
    """What to list and watch: a resource label for counters, a description, the request.

    ``request(timeout=(connect, read), **parameters)`` sends one list or watch request
    (parameters of the client's list call) and returns the unread response; a non-2xx
    answer raises ``ApiException``. ``description`` names the target in messages
    (``list pods``, ``watch Secret ns/name``). A ``paged`` target is listed in pages
    of ``WatchOptions.page_size``. With ``missing_means_empty``, a list answered 404
    counts as an empty list for the sink, and is still retried as a failure.
    """

    resource: str
    description: str
    request: Callable[..., HTTPResponse]
    missing_means_empty: bool = False
    paged: bool = False


class Decoder(Protocol[_T]):
    """Turns the bytes of a list page and of watch lines into objects."""

    def page(self, body: bytes) -> ListPage[_T]:
        """One list page; raises when the body is no list page."""
        ...  # pragma: no cover

    def event(self, line: bytes) -> WatchEvent[_T]:
        """One watch line; raises when the line is no watch event (an ERROR event is one)."""
        ...  # pragma: no cover


class ListWatchSink(Protocol[_T]):
    """Receives what one loop learns, in order, from the loop's thread."""

    def on_listed(
        self, objects: dict[ObjectKey, _T], resource_version: str | None, *, at: datetime
    ) -> None:
        """A complete list: ``objects`` is everything selected now (``resource_version``
        is ``None`` for the empty list of a resource type that is not installed)."""
        ...  # pragma: no cover

    def on_events(self, events: list[WatchEvent[_T]], *, at: datetime) -> None:
        """Watch events received at ``at``, in order (ERROR events excluded)."""
        ...  # pragma: no cover

    def on_current(self, *, at: datetime) -> None:
        """The server ended a watch normally: everything up to now was delivered."""
        ...  # pragma: no cover

    def on_failure(self, failure: Failure, *, at: datetime) -> None:
        """Following the target failed at ``at``; ``failure.message`` says why, without secrets."""
        ...  # pragma: no cover


class _Stopped(Exception):
    """The stop event was set while a list was in progress."""


class ListWatch(Generic[_T]):
    """Keeps ``sink`` equal to what ``target`` selects, through every failure."""

    def __init__(
        self,
        target: WatchTarget,
        *,
        decoder: Decoder[_T],
        sink: ListWatchSink[_T],
        counters: CollectorCounters,
        options: WatchOptions,
        clock: Callable[[], datetime],
        stop: threading.Event | None = None,
        sleep: Callable[[float], object] | None = None,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        """``sleep(seconds)`` waits between retries (default: on ``stop``, so it ends early)."""
        self._target = target
        self._decoder = decoder
        self._sink = sink
        self._counters = counters
        self._options = options
        self._clock = clock
        self._stop = stop if stop is not None else threading.Event()
        self._sleep = sleep if sleep is not None else self._stop.wait
        self._backoff = Backoff(
            initial=options.backoff_initial_seconds,
            cap=options.backoff_cap_seconds,
            uniform=uniform,
        )
        self._resource_version: str | None = None
        self._listed = False
        self._failing = False
        self._streak = FailureStreak(logger)
        self._active_lock = threading.Lock()
        self._active: HTTPResponse | None = None

    @property
    def target(self) -> WatchTarget:
        """What is listed and watched."""
        return self._target

    @property
    def resource_version(self) -> str | None:
        """The version the next watch starts from (``None``: the next pass lists)."""
        return self._resource_version

    def run(self, *, iterations: int | None = None) -> None:
        """List and watch until the stop event is set, or after ``iterations`` passes.

        A pass is one watch request (preceded by a list when needed) or one failure.
        Never raises for a failure of the cluster, of an object or of the sink.
        """
        passes = 0
        while not self._stop.is_set() and (iterations is None or passes < iterations):
            passes += 1
            action = f"list {self._target.description}"
            try:
                if self._resource_version is None:
                    self._list()
                action = f"watch {self._target.description}"
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
            except CallbackFailure as error:
                self._record(error, action=f"react to a change of {self._target.description}")
                self._resource_version = None
                self._sleep(self._backoff.next_delay())
            except Exception as error:  # the loop must survive anything
                if self._stop.is_set():
                    return
                self._record(error, action=action)
                self._sleep(self._backoff.next_delay())

    def stop(self) -> None:
        """Set the stop event and cut the response being read, so that ``run`` returns at once."""
        self._stop.set()
        self.interrupt()

    def interrupt(self) -> None:
        """Cut the response being read, so that a stopped loop returns at once."""
        with self._active_lock:
            response = self._active
        if response is not None:
            interrupt(response)

    # -- list ------------------------------------------------------------------------------

    def _list(self) -> None:
        resource = self._target.resource
        if self._listed:
            self._counters.count_relist(resource)
        started = self._clock()
        objects: dict[ObjectKey, _T] = {}
        token: str | None = None
        restarts = 0
        while True:
            if self._stop.is_set():
                raise _Stopped
            self._counters.count_list_call(resource)
            try:
                response = self._request_page(token)
            except ApiException as error:
                status = status_code(error)
                if status == NOT_FOUND and self._target.missing_means_empty:
                    self._listed = True
                    self._sink.on_listed({}, None, at=started)
                if status != GONE or token is None:
                    raise
                if restarts >= self._options.max_list_restarts:
                    raise ResourceExpired(
                        f"the list's continue token expired {restarts + 1} times in a row; "
                        "the list is too slow for the server's compaction"
                    ) from error
                restarts += 1
                self._counters.count_error(resource, f"http_{GONE}")
                self._counters.count_relist(resource)
                logger.info(
                    "List of %s expired mid-way (410); listing again", self._target.description
                )
                objects, token, started = {}, None, self._clock()
                continue
            page = self._decoder.page(self._read(response))
            objects.update(page.objects)
            token = page.continue_token
            if not token:
                break
        self._resource_version = page.resource_version
        self._listed = True
        self._sink.on_listed(objects, page.resource_version, at=started)
        # A list ends a failure streak, but not the backoff: a watch that fails at once
        # after each list (410 after 410) must not make the loop spin.
        self._recovered()

    def _request_page(self, token: str | None) -> HTTPResponse:
        timeout = (self._options.connect_timeout_seconds, self._options.read_timeout_seconds)
        if not self._target.paged:
            return self._target.request(timeout=timeout)
        return self._target.request(timeout=timeout, limit=self._options.page_size, _continue=token)

    def _read(self, response: HTTPResponse) -> bytes:
        self._track(response)
        try:
            return response.data
        finally:
            response.release_conn()
            self._track(None)

    # -- watch -----------------------------------------------------------------------------

    def _watch(self) -> None:
        self._counters.count_watch_call(self._target.resource)
        response = self._open_watch()
        self._track(response)
        started = time.monotonic()
        delivered = False
        try:
            for lines in line_blocks(response):
                delivered = True
                self._apply(lines)
        finally:
            self._track(None)
            close_response(response)
        if self._stop.is_set():
            return
        if not delivered and time.monotonic() - started < QUIET_END_SECONDS:
            self._sleep(self._backoff.next_delay())
            return
        # The server ended the watch normally (timeoutSeconds): all was delivered.
        self._sink.on_current(at=self._clock())
        self._progressed()

    def _open_watch(self) -> HTTPResponse:
        """Start a watch from the last version, with bookmarks; a 410 is ``ResourceExpired``."""
        options = self._options
        try:
            return self._target.request(
                timeout=(options.connect_timeout_seconds, options.watch_read_timeout_seconds),
                watch=True,
                resource_version=self._resource_version,
                allow_watch_bookmarks=True,
                timeout_seconds=options.watch_timeout_seconds,
            )
        except ApiException as error:
            if status_code(error) == GONE:
                raise ResourceExpired(
                    f"resourceVersion {self._resource_version} is too old (410 Gone)"
                ) from error
            raise

    def _apply(self, lines: list[bytes]) -> None:
        """Hand a block of watch lines to the sink; raise after the good ones for a bad one.

        One clock reading and one counter update for the whole block.
        """
        events: list[WatchEvent[_T]] = []
        types: dict[str, int] = {}
        version = self._resource_version
        failure: Exception | None = None
        decode = self._decoder.event
        for line in lines:
            try:
                event = decode(line)
            except Exception as error:  # a line that is no event: the good ones count
                failure = error
                break
            event_type = event.type
            types[event_type] = types.get(event_type, 0) + 1
            if event_type == "ERROR":
                failure = error_event_failure(json.loads(line).get("object"))
                break
            events.append(event)
            version = event.resource_version or version
        self._counters.count_events(self._target.resource, types)
        if events:
            self._sink.on_events(events, at=self._clock())
            self._resource_version = version
            self._progressed()
        if failure is not None:
            raise failure

    # -- bookkeeping -----------------------------------------------------------------------

    def _track(self, response: HTTPResponse | None) -> None:
        with self._active_lock:
            self._active = response
        if response is not None and self._stop.is_set():
            interrupt(response)

    def _progressed(self) -> None:
        """A watch delivered something or ended normally: start the backoff over."""
        self._recovered()
        self._backoff.reset()

    def _recovered(self) -> None:
        if self._failing:
            logger.info("Watch of %s is current again", self._target.description)
            self._failing = False
        self._streak.end()

    def _record(self, error: BaseException, *, action: str) -> None:
        failure = describe_failure(error, action=action, resource=self._target.resource)
        self._counters.count_error(self._target.resource, failure.kind)
        self._failing = True
        self._sink.on_failure(failure, at=self._clock())
        if isinstance(error, CallbackFailure) and error.logged:
            return  # a defect, logged with its traceback where it happened
        self._streak.log(error, failure)
