"""Failures a test arranges in advance: error answers, dropped connections, delays, and the
ways a watch stream goes wrong.

A fault matches requests by method, by a regular expression searched in the path and, when
``watch`` is given, by whether the request is a watch (``True``) or not (``False``); the
list and the watch of pods share a path, so this is how a test fails one and not the other.
It fires for the next ``count`` matching requests (``None``: until cleared). Delays add up
and happen before the request is handled; then the first matching fault of another kind
decides the answer. Thread-safe.

Faults of a whole answer:

- ``fail``: an error status with a ``Status`` body (500 InternalError, 503, 429, 504).
- ``drop``: the headers and half the body, then the connection closes (a watch: the
  headers, then the connection closes).
- ``delay``: the answer starts ``seconds`` late (a slow API server or proxy).

- ``partition``: the connection closes at once, without an answer, for requests whose
  ``User-Agent`` matches ``user_agent``: one client cut off from the API server while the
  others go on (a network partition as the client sees it; its requests fail).

Faults of a watch stream (they match watches only):

- ``cut_event``: ``after_events`` events go out whole, then half of the next event's line
  (in a chunk of its own), then the connection closes without the terminating chunk: a
  stream cut mid-event, as a proxy or a dying API server does. BOOKMARKs are not counted.
  With ``clean_end`` the half line is followed by the terminating chunk instead, so the
  client sees a well-formed stream whose last line is not JSON.
- ``error_event``: after ``after_events`` events, an ``ERROR`` event carrying a ``Status``
  with ``status`` as its code (500 InternalError by default), then the stream ends cleanly;
  upstream ends a watch this way when its storage watch fails.
- ``stall``: the headers go out, then nothing at all (no event, no bookmark, no end) for
  ``seconds``, or until the server stops or drops its watches; then the connection closes.
  A hung connection that only the client's read timeout can detect.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Literal, cast

FaultAction = Literal["fail", "drop", "delay", "partition", "cut_event", "error_event", "stall"]
WatchFaultKind = Literal["cut_event", "error_event", "stall"]
_WATCH_ONLY: tuple[FaultAction, ...] = ("cut_event", "error_event", "stall")


@dataclass
class Fault:
    """One arranged failure and how many more requests it applies to."""

    action: FaultAction
    remaining: int | None
    path: re.Pattern[str] | None
    method: str | None
    status: int = 500
    seconds: float = 0.0
    watch: bool | None = None
    after_events: int = 0
    clean_end: bool = False
    user_agent: re.Pattern[str] | None = None

    def matches(
        self, method: str, path: str, *, is_watch: bool = False, user_agent: str = ""
    ) -> bool:
        """Whether a request falls under this fault."""
        if self.method is not None and self.method.upper() != method:
            return False
        if self.user_agent is not None and self.user_agent.search(user_agent) is None:
            return False
        watch = True if self.action in _WATCH_ONLY else self.watch
        if watch is not None and watch != is_watch:
            return False
        return self.path is None or self.path.search(path) is not None


@dataclass(frozen=True)
class WatchFault:
    """How a watch stream must go wrong (see the module docstring)."""

    kind: WatchFaultKind
    after_events: int = 0
    status: int = 500
    seconds: float = 0.0
    clean_end: bool = False


@dataclass(frozen=True)
class FaultDecision:
    """What to do with one request: wait first, then maybe fail, drop or spoil its stream."""

    delay_seconds: float = 0.0
    fail_status: int | None = None
    drop: bool = False
    cut_off: bool = False
    watch_fault: WatchFault | None = None


class FaultPlan:
    """The faults arranged for a server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def fail(
        self,
        count: int | None = 1,
        *,
        status: int = 500,
        path: str | None = None,
        method: str | None = None,
        watch: bool | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests with ``status`` and a Status body."""
        self._add(Fault("fail", count, _compile(path), method, status=status, watch=watch))

    def drop(
        self,
        count: int | None = 1,
        *,
        path: str | None = None,
        method: str | None = None,
        watch: bool | None = None,
    ) -> None:
        """Close the connection of the next ``count`` matching requests mid-response."""
        self._add(Fault("drop", count, _compile(path), method, watch=watch))

    def delay(
        self,
        seconds: float,
        *,
        count: int | None = None,
        path: str | None = None,
        method: str | None = None,
        watch: bool | None = None,
    ) -> None:
        """Wait ``seconds`` before answering matching requests."""
        self._add(Fault("delay", count, _compile(path), method, seconds=seconds, watch=watch))

    def partition(
        self, user_agent: str, *, count: int | None = None, path: str | None = None
    ) -> None:
        """Cut off the client whose ``User-Agent`` matches ``user_agent``: its connections close
        unanswered (watches too) until cleared, or for its next ``count`` requests."""
        self._add(
            Fault("partition", count, _compile(path), None, user_agent=re.compile(user_agent))
        )

    def cut_event(
        self,
        count: int | None = 1,
        *,
        path: str | None = None,
        after_events: int = 0,
        clean_end: bool = False,
    ) -> None:
        """Cut the next ``count`` matching watches in the middle of an event's line."""
        self._add(
            Fault(
                "cut_event",
                count,
                _compile(path),
                "GET",
                after_events=after_events,
                clean_end=clean_end,
            )
        )

    def error_event(
        self,
        count: int | None = 1,
        *,
        status: int = 500,
        path: str | None = None,
        after_events: int = 0,
    ) -> None:
        """End the next ``count`` matching watches with an ERROR event of code ``status``."""
        self._add(
            Fault(
                "error_event",
                count,
                _compile(path),
                "GET",
                status=status,
                after_events=after_events,
            )
        )

    def stall(self, seconds: float, *, count: int | None = 1, path: str | None = None) -> None:
        """Keep the next ``count`` matching watches open and silent for ``seconds``."""
        self._add(Fault("stall", count, _compile(path), "GET", seconds=seconds))

    def clear(self) -> None:
        """Remove every arranged fault."""
        with self._lock:
            self._faults.clear()

    def decide(
        self, method: str, path: str, *, is_watch: bool = False, user_agent: str = ""
    ) -> FaultDecision:
        """Consume the faults that apply to this request and say what to do."""
        delay = 0.0
        deciding: Fault | None = None
        with self._lock:
            for fault in list(self._faults):
                if not fault.matches(method, path, is_watch=is_watch, user_agent=user_agent):
                    continue
                if fault.action == "delay":
                    delay += fault.seconds
                elif deciding is None:
                    deciding = fault
                else:
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
        if deciding is None:
            return FaultDecision(delay)
        if deciding.action == "fail":
            return FaultDecision(delay, fail_status=deciding.status)
        if deciding.action == "drop":
            return FaultDecision(delay, drop=True)
        if deciding.action == "partition":
            return FaultDecision(delay, cut_off=True)
        return FaultDecision(
            delay,
            watch_fault=WatchFault(
                cast(WatchFaultKind, deciding.action),
                after_events=deciding.after_events,
                status=deciding.status,
                seconds=deciding.seconds,
                clean_end=deciding.clean_end,
            ),
        )

    def _add(self, fault: Fault) -> None:
        if fault.remaining is not None and fault.remaining <= 0:
            raise ValueError(f"count must be positive or None, got {fault.remaining}")
        if fault.after_events < 0:
            raise ValueError(f"after_events must be 0 or more, got {fault.after_events}")
        with self._lock:
            self._faults.append(fault)


def _compile(path: str | None) -> re.Pattern[str] | None:
    return None if path is None else re.compile(path)
