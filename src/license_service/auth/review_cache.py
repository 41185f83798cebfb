"""Remembering review decisions for a short while, keyed so that no token is kept (SPEC 4.5).

``ReviewCache`` maps (token, path) to a decision for the ``ttl`` given with each
entry. Guarantees:
- the token is never stored: the key is the SHA-256 digest of the token and the path;
- an entry is used only while ``stored_at <= now < stored_at + ttl``, so a clock set
  back does not stretch an entry's life;
- at most ``max_entries`` entries, the least recently used forgotten first (an
  expired entry is dropped when next looked up, or when it is the least recently used).
The time is read from the ``clock`` given; nothing here sleeps.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from license_service.errors import ConfigurationError

_Value = TypeVar("_Value")
_Key = tuple[bytes, str]


@dataclass(frozen=True, slots=True)
class _Entry(Generic[_Value]):
    value: _Value
    stored_at: datetime
    expires_at: datetime

    def fresh(self, now: datetime) -> bool:
        return self.stored_at <= now < self.expires_at


class ReviewCache(Generic[_Value]):
    """A bounded, expiring map from (token, path) to a decision."""

    def __init__(self, *, max_entries: int, clock: Callable[[], datetime]) -> None:
        if max_entries < 1:
            raise ConfigurationError(
                f"the review cache size {max_entries} is invalid; give 1 or more entries"
            )
        self._max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        # Least recently used first, so the first entry is the one to forget.
        self._entries: OrderedDict[_Key, _Entry[_Value]] = OrderedDict()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(self, token: str, path: str) -> _Value | None:
        """The decision stored for ``token`` on ``path`` if still fresh, else ``None``."""
        key = _key(token, path)
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if not entry.fresh(now):
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry.value

    def put(self, token: str, path: str, value: _Value, *, ttl: timedelta) -> None:
        """Remember ``value`` for ``token`` on ``path`` during ``ttl`` (0 or less: not at all)."""
        if ttl <= timedelta(0):
            return
        key = _key(token, path)
        now = self._clock()
        with self._lock:
            self._entries.pop(key, None)
            while len(self._entries) >= self._max_entries:
                self._entries.popitem(last=False)
            self._entries[key] = _Entry(value, now, now + ttl)

    def clear(self) -> None:
        """Forget every decision."""
        with self._lock:
            self._entries.clear()


def _key(token: str, path: str) -> _Key:
    """The SHA-256 of the token (never the token itself) with the path."""
    return (hashlib.sha256(token.encode("utf-8", errors="surrogatepass")).digest(), path)
