"""Slowing down clients that keep presenting wrong tokens (SPEC 4.6).

A client (its address) that fails ``max_failures`` times within ``window`` is
refused with 429 until its oldest counted failure leaves the window: a sliding
window, so a client that keeps guessing is held to ``max_failures`` attempts
per ``window``. A success clears that client's failures and no one else's.

Memory stays bounded: at most ``max_clients`` clients are tracked, the one that
failed least recently being forgotten first, and each keeps at most
``max_failures`` timestamps. The time is a parameter; nothing here reads a clock.

Which refusals are failed attempts is decided here too (``record``): only a
presented credential that could have been accepted and was wrong (reasons in
``FAILED_ATTEMPT_REASONS``). A refusal that says nothing about the credential (none
sent, a method turned off, the Kubernetes API down) or that follows a valid token
(403: a known service account without the role) counts for nothing.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque
from datetime import datetime, timedelta
from typing import Final

from license_service.auth.identities import Denied, Identity
from license_service.errors import ConfigurationError

DEFAULT_MAX_FAILURES: Final = 10
DEFAULT_WINDOW: Final = timedelta(seconds=60)
DEFAULT_MAX_CLIENTS: Final = 10_000
FAILED_ATTEMPT_REASONS: Final = frozenset({"invalid", "unauthenticated"})
"""``Denied.reason`` values that count as failed attempts: a wrong API token, or a
bearer token the Kubernetes API does not authenticate."""


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
        """How many clients have failures on record: at most ``max_clients`` (what tests check)."""
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

    def refusal(self, client: str, now: datetime) -> Denied | None:
        """The 429 answer for ``client`` while it must wait, else ``None``."""
        wait = self.retry_after(client, now)
        if wait is None:
            return None
        return Denied(
            429,
            "rate-limited",
            f"too many failed authentication attempts from {client}; "
            f"try again in {wait} s with a valid token",
            retry_after=wait,
        )

    def record(self, decision: Identity | Denied, client: str, now: datetime) -> None:
        """Count ``decision``: a success clears ``client``'s failures, a failed attempt adds one."""
        if isinstance(decision, Identity):
            self.record_success(client)
        elif decision.reason in FAILED_ATTEMPT_REASONS:
            self.record_failure(client, now)

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
        """Forget ``client``'s failures: it has shown it holds a valid credential."""
        with self._lock:
            self._failures.pop(client, None)
