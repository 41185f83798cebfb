"""Counts of what the collector did, for the metrics endpoint to read at scrape time.

Counters only grow (Prometheus counters): list calls (one per page), watch calls,
events by type, errors by kind and re-lists, each per resource (``pods``, ``nodes``,
``namespaces``). Error kinds are ``http_<status>`` (an error answer, also a 410 or an
ERROR event's code), ``connect`` (the server could not be reached), ``dropped`` (a
response or watch cut or timed out mid-way), ``decode`` (a body, a watch line or an
object that could not be decoded), ``callback`` (the service's reaction to a change was
refused for a reason of its own) and ``unexpected`` (a defect). ``snapshot`` is cheap
and consistent; this module imports no metrics library: the web layer turns snapshots
into metric families.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class CounterSnapshot:
    """The counters at one instant; keys are resource names or (resource, label) pairs."""

    list_calls: Mapping[str, int] = field(default_factory=dict)
    watch_calls: Mapping[str, int] = field(default_factory=dict)
    events: Mapping[tuple[str, str], int] = field(default_factory=dict)
    errors: Mapping[tuple[str, str], int] = field(default_factory=dict)
    relists: Mapping[str, int] = field(default_factory=dict)


class CollectorCounters:
    """Thread-safe counters shared by the three resource loops."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._list_calls: Counter[str] = Counter()
        self._watch_calls: Counter[str] = Counter()
        self._events: Counter[tuple[str, str]] = Counter()
        self._errors: Counter[tuple[str, str]] = Counter()
        self._relists: Counter[str] = Counter()

    def count_list_call(self, resource: str) -> None:
        """One list request (one page) was sent."""
        with self._lock:
            self._list_calls[resource] += 1

    def count_watch_call(self, resource: str) -> None:
        """One watch request was sent."""
        with self._lock:
            self._watch_calls[resource] += 1

    def count_events(self, resource: str, event_types: Mapping[str, int]) -> None:
        """Watch events were received, ``event_types`` maps a type to how many."""
        with self._lock:
            for event_type, count in event_types.items():
                self._events[(resource, event_type)] += count

    def count_error(self, resource: str, kind: str) -> None:
        """One error of ``kind`` (``http_500``, ``connect``, ``dropped``, ``decode``)."""
        with self._lock:
            self._errors[(resource, kind)] += 1

    def count_relist(self, resource: str) -> None:
        """A list started again after the first (410 Gone, expired continue token)."""
        with self._lock:
            self._relists[resource] += 1

    def snapshot(self) -> CounterSnapshot:
        """Copy every counter at once."""
        with self._lock:
            return CounterSnapshot(
                list_calls=dict(self._list_calls),
                watch_calls=dict(self._watch_calls),
                events=dict(self._events),
                errors=dict(self._errors),
                relists=dict(self._relists),
            )
