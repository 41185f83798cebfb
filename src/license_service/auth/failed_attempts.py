"""Slowing down clients that keep presenting wrong tokens (SPEC 4.6).

A client (its address) that fails ``max_failures`` times within ``window`` is
refused with 429 until its oldest counted failure leaves the window: a sliding
window, so a client that keeps guessing is held to ``max_failures`` attempts
per ``window``. A success clears that client's failures and no one else's.

Memory stays bounded: at most ``max_clients`` clients are tracked, the one that
failed least recently being forgotten first, and each keeps at most
``max_failures`` timestamps. The time is a parameter; nothing here reads a clock.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque
from datetime import datetime, timedelta
from typing import Final

from license_service.errors import ConfigurationError

DEFAULT_MAX_FAILURES: Final = 10
DEFAULT_WINDOW: Final = timedelta(seconds=60)
DEFAULT_MAX_CLIENTS: Final = 10_000


class FailedAttemptLimiter:
    """Counts failed authentication attempts per client and says when to refuse one."""

    def __init__(
        self,
        *,
        max_failures: int = DEFAULT_MAX_FAILURES,
        window: timedelta = DEFAULT_WINDOW,
        max_clients: int = DEFAULT_MAX_CLIENTS,
    ) -> None:
        if max_failures < 1 or max_clients < 1 or window <= timedelta(0):
            raise ConfigurationError(
                f"failed-attempt limits max_failures={max_failures}, max_clients={max_clients}, "
                f"window={window} are invalid; give counts of 1 or more and a positive window"
            )
        self._max_failures = max_failures
        self._window = window
        self._max_clients = max_clients
        self._lock = threading.Lock()
        # Least recently failed first, so the first entry is the one to forget.
        self._failures: OrderedDict[str, deque[datetime]] = OrderedDict()

    @property
    def tracked_clients(self) -> int:
        """How many clients have failures on record."""
        with self._lock:
            return len(self._failures)

    def retry_after(self, client: str, now: datetime) -> int | None:
        """Whole seconds ``client`` must wait before trying again, or ``None`` if it may try."""
        with self._lock:
            failures = self._failures.get(client)
            if failures is None:
                return None
            while failures and failures[0] <= now - self._window:
                failures.popleft()
            if not failures:
                del self._failures[client]
                return None
            if len(failures) < self._max_failures:
                return None
            wait = (failures[0] + self._window - now).total_seconds()
            return max(1, math.ceil(wait))

    def record_failure(self, client: str, now: datetime) -> None:
        """Count a failed attempt by ``client`` at ``now``."""
        with self._lock:
            failures = self._failures.pop(client, None)
            if failures is None:
                failures = deque(maxlen=self._max_failures)
                while len(self._failures) >= self._max_clients:
                    self._failures.popitem(last=False)
            failures.append(now)
            self._failures[client] = failures

    def record_success(self, client: str) -> None:
        """Forget ``client``'s failures: it has shown it knows the token."""
        with self._lock:
            self._failures.pop(client, None)
