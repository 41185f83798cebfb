"""Failures a test arranges in advance: error answers, dropped connections, delays.

A fault matches requests by method and by a regular expression searched in the path, and
fires for the next ``count`` matching requests (``None``: until cleared). Delays add up and
happen before the request is handled; then the first matching ``fail`` or ``drop`` decides
the answer. Thread-safe.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Literal

FaultAction = Literal["fail", "drop", "delay"]


@dataclass
class Fault:
    """One arranged failure and how many more requests it applies to."""

    action: FaultAction
    remaining: int | None
    path: re.Pattern[str] | None
    method: str | None
    status: int = 500
    seconds: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        """Whether a request falls under this fault."""
        if self.method is not None and self.method.upper() != method:
            return False
        return self.path is None or self.path.search(path) is not None


@dataclass(frozen=True)
class FaultDecision:
    """What to do with one request: wait first, then maybe fail or drop it."""

    delay_seconds: float = 0.0
    fail_status: int | None = None
    drop: bool = False


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
    ) -> None:
        """Answer the next ``count`` matching requests with ``status`` and a Status body."""
        self._add(Fault("fail", count, _compile(path), method, status=status))

    def drop(
        self, count: int | None = 1, *, path: str | None = None, method: str | None = None
    ) -> None:
        """Close the connection of the next ``count`` matching requests mid-response."""
        self._add(Fault("drop", count, _compile(path), method))

    def delay(
        self,
        seconds: float,
        *,
        count: int | None = None,
        path: str | None = None,
        method: str | None = None,
    ) -> None:
        """Wait ``seconds`` before answering matching requests."""
        self._add(Fault("delay", count, _compile(path), method, seconds=seconds))

    def clear(self) -> None:
        """Remove every arranged fault."""
        with self._lock:
            self._faults.clear()

    def decide(self, method: str, path: str) -> FaultDecision:
        """Consume the faults that apply to this request and say what to do."""
        delay = 0.0
        fail_status: int | None = None
        drop = False
        with self._lock:
            for fault in list(self._faults):
                if not fault.matches(method, path):
                    continue
                if fault.action == "delay":
                    delay += fault.seconds
                elif fail_status is None and not drop:
                    if fault.action == "fail":
                        fail_status = fault.status
                    else:
                        drop = True
                else:
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
        return FaultDecision(delay, fail_status, drop)

    def _add(self, fault: Fault) -> None:
        if fault.remaining is not None and fault.remaining <= 0:
            raise ValueError(f"count must be positive or None, got {fault.remaining}")
        with self._lock:
            self._faults.append(fault)


def _compile(path: str | None) -> re.Pattern[str] | None:
    return None if path is None else re.compile(path)
