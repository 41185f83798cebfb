"""A bounded cache of report bodies, valid for one data version of the store.

A body is kept under everything that determines it (``BodyKey``: report, cluster,
resolved period, metric, format) and belongs to the data version it was computed at
(``Database.data_version``, read before its read transaction began). When the
version moves on, every body is dropped at the next look-up: any committed write may
have changed any report. Bodies computed at an older version are not kept.

Memory is bounded: at most ``max_entries`` bodies and ``max_bytes`` bytes of bodies,
the least recently used dropped first; a body larger than a quarter of ``max_bytes``
is served but not kept. Not thread-safe: the web layer uses it from the event loop only.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from license_service.metering.periods import DatePeriod
from license_service.web.reports.period_parameters import ReportFormat

MAX_ENTRIES: Final = 256
MAX_BYTES: Final = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class BodyKey:
    """Everything a report body depends on besides the data (``cluster_id`` ``None``: the
    Reporter's whole fleet)."""

    report: str
    cluster_id: str | None
    period: DatePeriod
    metric: str | None
    format: ReportFormat


class BodyCache:
    """Report bodies of the current data version, least recently used dropped first."""

    def __init__(
        self,
        data_version: Callable[[], int],
        *,
        max_entries: int = MAX_ENTRIES,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        """A cache whose bodies are valid while ``data_version()`` does not change."""
        if max_entries < 1 or max_bytes < 1:
            raise ValueError(
                f"a body cache needs room: max_entries={max_entries}, max_bytes={max_bytes}"
            )
        self._data_version = data_version
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._bodies: OrderedDict[BodyKey, bytes] = OrderedDict()
        self._bytes = 0
        self._version = data_version()

    @property
    def entries(self) -> int:
        """How many bodies of the current data version are kept."""
        self._follow_version()
        return len(self._bodies)

    @property
    def kept_bytes(self) -> int:
        """How many bytes of bodies of the current data version are kept (bounded; tests check)."""
        self._follow_version()
        return self._bytes

    def get(self, key: BodyKey) -> bytes | None:
        """The body of ``key`` at the current data version, or ``None``."""
        self._follow_version()
        body = self._bodies.get(key)
        if body is not None:
            self._bodies.move_to_end(key)
        return body

    def put(self, key: BodyKey, body: bytes, *, version: int) -> bool:
        """Keep ``body``, computed at data ``version``; ``False`` when it is not kept.

        It is not kept when the data changed since (``version`` is not current) or when
        it is too large for the bound.
        """
        self._follow_version()
        if version != self._version or len(body) > self._max_bytes // 4:
            return False
        previous = self._bodies.pop(key, None)
        if previous is not None:
            self._bytes -= len(previous)
        self._bodies[key] = body
        self._bytes += len(body)
        while len(self._bodies) > self._max_entries or self._bytes > self._max_bytes:
            _, dropped = self._bodies.popitem(last=False)
            self._bytes -= len(dropped)
        return True

    def _follow_version(self) -> None:
        current = self._data_version()
        if current != self._version:
            self._bodies.clear()
            self._bytes = 0
            self._version = current
