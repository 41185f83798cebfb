"""The API token in force, read from a file and followed while the server runs (SPEC 4.2-4.3).

``TokenFile`` reads the data directory's token file (generated on first start)
or an external ``--token-file``, such as a Kubernetes Secret mounted as a volume.
A mounted Secret is updated by swapping a symbolic link (``..data``), which keeps
neither the inode nor the modification time meaningful, so ``refresh`` compares
the file's content: any change is seen at the next refresh (every second when
``watch`` runs).

Guarantees:
- fail closed: a file that is missing, unreadable, or whose token breaks the rules
  yields a ``TokenState`` with no token, so no API token is accepted, and an
  ``invalid_reason`` saying why (position and character, never the token);
- rotation: with a grace period, the token in force before a change stays
  accepted until the period ends (never after a change to an invalid token);
- the ``repr`` of a ``TokenState`` and every log line hide the tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final, Protocol

from license_service.errors import AuthenticationError, ConfigurationError
from license_service.tokens.file_store import create_token_file, read_token_text
from license_service.tokens.rules import generate_token, token_problem

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware UTC."""
Sleep = Callable[[float], Awaitable[None]]
"""Waits the given number of seconds (``asyncio.sleep``, or a fake in tests)."""
_UNREAD: Final = object()


@dataclass(frozen=True, slots=True)
class TokenState:
    """The API tokens accepted now (current first, then the previous one in its grace period).

    ``tokens`` is empty when the configured token cannot be used; ``invalid_reason``
    then says why, for ``/health`` and the operator.
    """

    tokens: tuple[str, ...] = field(default=(), repr=False)
    invalid_reason: str | None = None


class TokenSource(Protocol):
    """Where the API token comes from: a file here, a Kubernetes Secret later."""

    def current(self) -> TokenState:
        """The tokens accepted at this moment."""
        ...


class TokenFile:
    """A ``TokenSource`` backed by a file: the data directory's, or ``--token-file``.

    With ``generate_if_missing`` (the data directory's file), a missing file is
    created with a new random token, mode 0600, when the ``TokenFile`` is built;
    an external file is never generated (it is the operator's, or a Secret's).
    """

    def __init__(
        self,
        path: Path,
        *,
        generate_if_missing: bool,
        grace_period: timedelta,
        clock: Clock,
    ) -> None:
        if grace_period < timedelta(0):
            raise ConfigurationError(
                f"token grace period {grace_period} is negative; give 0 or more seconds"
            )
        self._path = path
        self._generated_here = generate_if_missing
        self._grace_period = grace_period
        self._clock = clock
        # refresh() may run in a worker thread while current() is read on the event loop.
        self._lock = threading.Lock()
        self._seen: object = _UNREAD
        self._token: str | None = None
        self._invalid_reason: str | None = None
        self._previous: str | None = None
        self._previous_until: datetime | None = None
        if generate_if_missing and not self._exists():
            self._generate()
        self.refresh()

    @property
    def path(self) -> Path:
        """The file the token is read from."""
        return self._path

    def current(self) -> TokenState:
        """The tokens accepted now: the file's, plus the previous one until its grace ends."""
        now = self._clock()
        with self._lock:
            if self._token is None:
                return TokenState(invalid_reason=self._invalid_reason)
            if self._previous is not None and self._previous_until is not None:
                if now < self._previous_until:
                    return TokenState(tokens=(self._token, self._previous))
                self._previous = self._previous_until = None
            return TokenState(tokens=(self._token,))

    def refresh(self) -> bool:
        """Re-read the file; return True when what it says changed since the last read."""
        token: str | None
        reason: str | None
        try:
            text = read_token_text(self._path)
        except AuthenticationError as exc:
            seen: object = ("unreadable", str(exc))
            token, reason = None, f"the configured API token cannot be read: {exc}"
        else:
            seen = text
            token, reason = self._judge(text)
        if seen == self._seen:
            return False
        self._seen = seen
        self._apply(token, reason)
        return True

    async def watch(
        self, stop: asyncio.Event, *, every: float = 1.0, sleep: Sleep = asyncio.sleep
    ) -> None:
        """Refresh every ``every`` seconds until ``stop`` is set; never raises on a bad read."""
        logger.info("Watching the API token file %s every %g s", self._path, every)
        while not stop.is_set():
            try:
                self.refresh()
            except Exception:
                logger.exception("Reading the API token file %s failed; retrying", self._path)
            if await _stopped_while_waiting(stop, every, sleep):
                break

    def _judge(self, text: str | None) -> tuple[str | None, str | None]:
        """The usable token in ``text`` and ``None``, or ``None`` and why there is none."""
        if text is None:
            return None, f"the API token file {self._path} does not exist; {self._fix_hint()}"
        # Short tokens are accepted here: `token set --force` may have written one on purpose.
        problem = token_problem(text, force=True)
        if problem is not None:
            return None, (
                f"the configured API token in {self._path} is invalid: {problem.description}; "
                f"{self._fix_hint()}"
            )
        return text, None

    def _apply(self, token: str | None, reason: str | None) -> None:
        now = self._clock()
        with self._lock:
            before = self._token
            if token is not None and before is not None and self._grace_period:
                self._previous, self._previous_until = before, now + self._grace_period
            else:
                # Fail closed: no token survives an invalid one, even in a grace period.
                self._previous = self._previous_until = None
            self._token, self._invalid_reason = token, reason
            until = self._previous_until if self._previous is not None else None
        if token is None:
            logger.error("API-token access refused: %s", reason)
        elif before is None:
            logger.info("API token read from %s", self._path)
        elif until is not None:
            logger.info(
                "The API token in %s changed; the previous token is accepted until %s",
                self._path,
                until.isoformat(),
            )
        else:
            logger.info("The API token in %s changed; the previous token is refused", self._path)

    def _exists(self) -> bool:
        try:
            return read_token_text(self._path) is not None
        except AuthenticationError:
            return True  # there, but unreadable: refresh() records why

    def _generate(self) -> None:
        if create_token_file(self._path, generate_token()):
            logger.info(
                "Generated a new API token in %s (mode 0600); print it with "
                "`license-service token get --data-dir %s`",
                self._path,
                self._path.parent,
            )

    def _fix_hint(self) -> str:
        if self._generated_here:
            return (
                "write a valid token with `license-service token set --data-dir "
                f"{self._path.parent} -` or `license-service token generate --data-dir "
                f"{self._path.parent}`"
            )
        return (
            "put a valid token in it: edit the Secret mounted there, or run "
            f"`license-service token set --token-file {self._path} -`"
        )


async def _stopped_while_waiting(stop: asyncio.Event, seconds: float, sleep: Sleep) -> bool:
    """Wait ``seconds`` with ``sleep``; return early (True) when ``stop`` is set."""
    sleeper = asyncio.ensure_future(sleep(seconds))
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((sleeper, stopper), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeper, stopper):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(sleeper, stopper, return_exceptions=True)
    return stop.is_set()
