"""Test doubles of time for the collector: a clock the test moves, a sleep that records.

Neither talks to the client: the collector still uses the real client over real HTTP.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta

START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


class ManualClock:
    """A UTC clock that stands still until the test advances it; thread-safe."""

    def __init__(self, start: datetime = START) -> None:
        self._lock = threading.Lock()
        self._now = start

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        """Move the clock on; return the new time."""
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now


class RecordingSleep:
    """Records every delay the loops ask for, and waits only a hundredth of it.

    The scaled wait keeps a loop against a server that is down from spinning, while a
    test of 30-second backoffs still runs in a fraction of a second. Delays are
    recorded per thread name (``license-service-watch-pods``, ...).
    """

    def __init__(self, scale: float = 0.01) -> None:
        self._scale = scale
        self._lock = threading.Lock()
        self._delays: defaultdict[str, list[float]] = defaultdict(list)
        self._wake = threading.Event()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self._delays[threading.current_thread().name].append(seconds)
        self._wake.wait(seconds * self._scale)

    def delays(self, resource: str) -> list[float]:
        """The delays asked for by the loop of ``resource`` (``pods``, ``nodes``, ...)."""
        with self._lock:
            return list(self._delays[f"license-service-watch-{resource}"])

    def all_delays(self) -> list[float]:
        """Every delay asked for, by any thread."""
        with self._lock:
            return [delay for delays in self._delays.values() for delay in delays]
