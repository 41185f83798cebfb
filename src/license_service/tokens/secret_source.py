"""The API token in force, read from its Kubernetes Secret and followed live (SPEC 4.2-4.3).

``SecretTokenSource`` is the ``KeptToken`` of a service in Kubernetes: a
``TokenSecretWatch`` (``secret_store``) hands it every reading of Secret
``ibm-licensing-token`` (the name is ``spec.apiSecretToken``); it applies the token
rules and keeps the ``TokenState`` the authenticator reads at each request.

Guarantees, as for a token file (``file_source.TokenFile``), with ``FollowedToken``:

- fail closed: a Secret that is missing, has no ``token`` key, or holds a token that
  breaks the rules yields no token and an ``invalid_reason`` saying why (position and
  character, never the token); a missing Secret is created again by the watch with a
  fresh random token, which is then used;
- a change is used as soon as the watch delivers it (well within the 5 s of SPEC 4.3);
- rotation: with a grace period the token in force before a change stays accepted
  until the period ends (never after a change to an invalid or missing token);
- ``use_secret`` follows a new ``spec.apiSecretToken``: the old Secret's watch is
  stopped and its late readings ignored;
- no log line and no ``repr`` holds a token.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from license_service.tokens.followed import Clock, FollowedToken, TokenState, judge_kept_token
from license_service.tokens.kinds import API_TOKEN, TokenKind
from license_service.tokens.secret_store import TokenReading, TokenSecret, TokenSecretWatch

logger = logging.getLogger(__name__)

OpenWatch = Callable[[str, Callable[[TokenReading], None]], TokenSecretWatch]
"""Builds the (unstarted) watch of the Secret named by the first argument."""


@dataclass(frozen=True, slots=True)
class _Judged:
    token: str | None
    reason: str | None


class SecretTokenSource:
    """A ``KeptToken`` backed by the token Secret, followed by a watch."""

    def __init__(
        self,
        *,
        secret_name: str,
        open_watch: OpenWatch,
        grace_period: timedelta,
        clock: Clock,
        fix_hint: str,
        kind: TokenKind = API_TOKEN,
    ) -> None:
        """Nothing is read until ``start``; ``fix_hint`` says how to write a valid token;
        ``kind``: which token (the API token, or the upload token of SPEC 10)."""
        self._open_watch = open_watch
        self._fix_hint = fix_hint
        self._kind = kind
        self._lock = threading.Lock()
        self._generation = 0
        self._watch = open_watch(secret_name, self._receiver(0))
        self._token = FollowedToken(
            grace_period=grace_period,
            clock=clock,
            invalid_reason=f"the {kind.name} has not been read yet from {self._watch.secret.label}",
            name=kind.name,
        )
        self._read_once = threading.Event()

    @property
    def secret(self) -> TokenSecret:
        """The Secret followed now."""
        with self._lock:
            return self._watch.secret

    @property
    def label(self) -> str:
        """The Secret followed now (``Secret <namespace>/<name>``)."""
        return self.secret.label

    @property
    def place(self) -> str:
        """Where the token is kept: the Secret followed now."""
        return self.label

    @property
    def running(self) -> bool:
        """Whether the watch thread is alive."""
        with self._lock:
            return self._watch.running

    def start(self) -> None:
        """Start following the Secret (creating it when missing)."""
        with self._lock:
            watch = self._watch
        watch.start()

    def stop(self) -> None:
        """Stop following."""
        with self._lock:
            watch = self._watch
        watch.stop()

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the Secret was read once (created first if missing); False on timeout."""
        return self._read_once.wait(timeout)

    def watch_error(self) -> str | None:
        """Why the Secret cannot be followed or created now, or ``None``."""
        with self._lock:
            watch = self._watch
        return watch.last_error

    def use_secret(self, name: str) -> None:
        """Follow the Secret ``name`` from now on (``spec.apiSecretToken`` changed)."""
        with self._lock:
            old = self._watch
            if old.secret.name == name:
                return
            self._generation += 1
            self._watch = self._open_watch(name, self._receiver(self._generation))
            new = self._watch
        logger.info(
            "The %s is now read from %s (was %s)",
            self._kind.name,
            new.secret.label,
            old.secret.label,
        )
        old.stop()
        new.start()

    def current(self) -> TokenState:
        """The tokens accepted now: the Secret's, plus the previous one until its grace ends."""
        return self._token.current()

    def _receiver(self, generation: int) -> Callable[[TokenReading], None]:
        return lambda reading: self._apply(reading, generation=generation)

    def _apply(self, reading: TokenReading, *, generation: int) -> None:
        judged = self._judge(reading)
        with self._lock:
            if generation != self._generation:
                return  # a late reading of a Secret no longer followed
            if not self._token.holds(judged.token, judged.reason):
                # A missing Secret is recreated at once; a bad value needs an operator.
                self._token.apply(
                    judged.token,
                    judged.reason,
                    place=reading.secret,
                    refusal_level=logging.WARNING if reading.missing else logging.ERROR,
                )
        self._note_read(reading)

    def _note_read(self, reading: TokenReading) -> None:
        # A missing Secret is being created: the start waits for what it will hold.
        if not reading.missing:
            self._read_once.set()

    def _judge(self, reading: TokenReading) -> _Judged:
        if reading.value is None:
            if reading.missing:
                return _Judged(
                    None,
                    f"no {self._kind.name} yet: {reading.problem}; the service is creating it "
                    "with a new random token",
                )
            return _Judged(
                None,
                f"the configured {self._kind.name} cannot be used: {reading.problem}; "
                f"{self._fix_hint}",
            )
        return _Judged(
            *judge_kept_token(
                reading.value, place=reading.secret, fix_hint=self._fix_hint, name=self._kind.name
            )
        )
