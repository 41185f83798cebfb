"""The API token in force and its rotation with a grace period (SPEC 4.3), written once.

Wherever the token is kept (a file: ``file_source``; a Kubernetes Secret:
``secret_source``), the service follows it and the authenticator asks ``current()``
at every request: both backends are a ``KeptToken``, a ``TokenSource`` that says where
the token is kept. ``FollowedToken`` is what both hold: the token in force, or why
there is none, and the previous token while its grace period runs.

Guarantees:
- fail closed: with no usable token, ``TokenState.tokens`` is empty and
  ``invalid_reason`` says why (position and character, never the token);
- rotation: a change from one usable token to another keeps the previous one
  accepted until the grace period ends; a change to no usable token ends any grace;
  the grace period is at most ``MAX_GRACE_PERIOD`` (7 days);
- a change applies whatever fails: the new token (or none) is put in force and the
  previous one dropped first, and the grace is granted only once its end is known, so
  no error (an end past what a datetime holds, a clock that fails) leaves the old
  token in force or the new one unused;
- safe across threads: a watcher thread applies changes while the event loop reads;
- no ``repr`` and no log line holds a token.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Protocol

from license_service.errors import ConfigurationError
from license_service.tokens.rules import token_problem

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware UTC."""

MAX_GRACE_PERIOD: Final = timedelta(days=7)
"""The longest grace period: a week covers a weekend and a weekly job; a longer one keeps
a leaked token alive too long (and an unbounded one overflowed the clock, issue 11.6)."""


@dataclass(frozen=True, slots=True)
class TokenState:
    """The API tokens accepted now (current first, then the previous one in its grace period).

    ``tokens`` is empty when the configured token cannot be used; ``invalid_reason``
    then says why, for ``/health`` and the operator.
    """

    tokens: tuple[str, ...] = field(default=(), repr=False)
    invalid_reason: str | None = None


class TokenSource(Protocol):
    """The API tokens accepted now: all an authenticator asks of where the token comes from."""

    def current(self) -> TokenState:
        """The tokens accepted at this moment."""
        ...


class KeptToken(TokenSource, Protocol):
    """The API token kept in a file or a Kubernetes Secret, followed while the service runs."""

    @property
    def place(self) -> str:
        """Where the token is kept: the file's path, or ``Secret <namespace>/<name>``."""
        ...


def judge_kept_token(
    value: str, *, place: str, fix_hint: str, name: str = "API token"
) -> tuple[str | None, str | None]:
    """``value`` and ``None`` when it may be the token kept at ``place``; else ``None`` and why
    (the reason ends with ``fix_hint``, how to write a valid one).

    The rules are those ``token set --force`` applies, the length included: a token
    written by hand (or by an older version) that ``token set --force`` would refuse
    (under 8 characters, say) is not used. One of 8 to 15 characters may have been
    written with ``--force``, so it is used.
    """
    problem = token_problem(value, forced=True)
    if problem is None:
        return value, None
    return (
        None,
        f"the configured {name} in {place} is invalid: {problem.description}; {fix_hint}",
    )


class FollowedToken:
    """The token in force, the previous one until its grace period ends, or why there is none."""

    def __init__(
        self,
        *,
        grace_period: timedelta,
        clock: Clock,
        invalid_reason: str | None = None,
        name: str = "API token",
    ) -> None:
        """Start with no token (``invalid_reason`` says why); ``ConfigurationError`` when the
        grace period is negative or longer than ``MAX_GRACE_PERIOD``. ``name`` says which
        token it is in log lines (the API token; the upload token of SPEC 10)."""
        problem = grace_period_problem(grace_period)
        if problem is not None:
            raise ConfigurationError(f"token grace period {problem}")
        self._grace_period = grace_period
        self._clock = clock
        self._name = name[:1].upper() + name[1:]
        self._refusal = name.replace(" ", "-")
        self._lock = threading.Lock()
        self._token: str | None = None
        self._invalid_reason = invalid_reason
        self._previous: str | None = None
        self._previous_until: datetime | None = None

    def current(self) -> TokenState:
        """The tokens accepted now: the one in force, plus the previous one until its grace ends."""
        now = self._clock()
        with self._lock:
            if self._token is None:
                return TokenState(invalid_reason=self._invalid_reason)
            if self._previous is not None and self._previous_until is not None:
                if now < self._previous_until:
                    return TokenState(tokens=(self._token, self._previous))
                self._previous = self._previous_until = None
            return TokenState(tokens=(self._token,))

    def holds(self, token: str | None, reason: str | None) -> bool:
        """Whether ``token`` (or no token, for ``reason``) is what is in force already."""
        with self._lock:
            return token == self._token and reason == self._invalid_reason

    def apply(
        self,
        token: str | None,
        reason: str | None,
        *,
        place: str,
        refusal_level: int = logging.ERROR,
    ) -> None:
        """Put ``token`` in force (or no token, for ``reason``) and log the change.

        ``place`` names where the token is kept, for the log; a refusal is logged at
        ``refusal_level``.
        """
        with self._lock:
            before = self._token
            # Fail closed first: the new token (or none) is in force and no previous one
            # is, before anything that can fail; a grace is added only once its end is
            # known. No token survives an invalid or missing one, even in a grace.
            self._token, self._invalid_reason = token, reason
            self._previous = self._previous_until = None
            if token is not None and before is not None and self._grace_period:
                self._previous_until = self._grace_end()
                if self._previous_until is not None:
                    self._previous = before
            until = self._previous_until if self._previous is not None else None
        if token is None:
            logger.log(refusal_level, "%s access refused: %s", self._refusal, reason)
        elif before is None:
            logger.info("%s read from %s", self._name, place)
        elif until is not None:
            logger.info(
                "The %s in %s changed; the previous token is accepted until %s",
                self._refusal.replace("-", " "),
                place,
                until.isoformat(),
            )
        else:
            logger.info(
                "The %s in %s changed; the previous token is refused",
                self._refusal.replace("-", " "),
                place,
            )

    def _grace_end(self) -> datetime | None:
        """When the previous token's grace ends, or ``None`` when that cannot be known."""
        try:
            return self._clock() + self._grace_period
        except OverflowError as exc:  # an end past the year 9999
            logger.error(
                "The previous %s is refused at once: its grace period cannot end (%s)",
                self._refusal.replace("-", " "),
                exc,
            )
            return None


def grace_period_problem(grace_period: timedelta) -> str | None:
    """What is wrong with a token grace period (the value, and how to fix it), or ``None``."""
    seconds = grace_period.total_seconds()
    if seconds < 0:
        return f"{seconds:g} is negative; give 0 (no grace) or a number of seconds"
    if grace_period > MAX_GRACE_PERIOD:
        most = int(MAX_GRACE_PERIOD.total_seconds())
        return (
            f"{seconds:.0f} is longer than the {most} seconds ({MAX_GRACE_PERIOD.days} days) "
            "allowed; give the time clients need to switch to the new token"
        )
    return None
