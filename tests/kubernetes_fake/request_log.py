"""The record of requests a fake received, for tests to inspect what a client asked.

Records are kept in arrival order, before faults or authentication are applied, so a test
sees also the requests that were failed or dropped on purpose.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RequestRecord:
    """One request as received."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    content_type: str = ""
    accept: str = ""
    user_agent: str = ""
    bearer_token: str | None = None
    received_at: float = field(default_factory=time.monotonic)
    """``time.monotonic()`` at arrival (system-wide on Linux, so comparable across processes)."""

    @property
    def is_watch(self) -> bool:
        """Whether the request asked for a watch stream."""
        return self.query.get("watch") in ("true", "1")


class RequestLog:
    """A thread-safe, bounded list of ``RequestRecord``."""

    def __init__(self, *, capacity: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []
        self._capacity = capacity

    def add(self, record: RequestRecord) -> None:
        """Append a record, forgetting the oldest beyond the capacity."""
        with self._lock:
            self._records.append(record)
            if len(self._records) > self._capacity:
                del self._records[: len(self._records) - self._capacity]

    def records(self) -> list[RequestRecord]:
        """A copy of the records, oldest first."""
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._records.clear()
