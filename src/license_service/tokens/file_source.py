"""The API token in force, read from a file and followed while the server runs (SPEC 4.2-4.3).

``TokenFile`` is the ``KeptToken`` of a service outside Kubernetes (or given
``--token-file``): the data directory's token file (generated on first start) or an
external file, such as a Kubernetes Secret mounted as a volume. A mounted Secret is
updated by swapping a symbolic link (``..data``), which keeps neither the inode nor
the modification time meaningful, so ``refresh`` compares the file's content: any
change is seen at the next refresh (the service refreshes every second).

Guarantees, with ``FollowedToken``:
- fail closed: a file that is missing, unreadable, or whose token breaks the rules
  yields a ``TokenState`` with no token, so no API token is accepted, and an
  ``invalid_reason`` saying why (position and character, never the token);
- rotation: with a grace period, the token in force before a change stays
  accepted until the period ends (never after a change to an invalid token);
- the ``repr`` of a ``TokenState`` and every log line hide the tokens.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Final

from license_service.errors import AuthenticationError
from license_service.tokens.file_store import create_token_file, read_token_text
from license_service.tokens.followed import Clock, FollowedToken, TokenState, judge_kept_token
from license_service.tokens.kinds import API_TOKEN, TokenKind
from license_service.tokens.rules import generate_token

logger = logging.getLogger(__name__)

_UNREAD: Final = object()


class TokenFile:
    """A ``KeptToken`` backed by a file: the data directory's, or ``--token-file``.

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
        kind: TokenKind = API_TOKEN,
    ) -> None:
        self._kind = kind
        self._token = FollowedToken(grace_period=grace_period, clock=clock, name=kind.name)
        self._path = path
        self._generated_here = generate_if_missing
        # refresh() may run in a worker thread while current() is read on the event loop:
        # only FollowedToken holds what current() reads.
        self._seen: object = _UNREAD
        if generate_if_missing and not self._exists():
            self._generate()
        self.refresh()

    @property
    def path(self) -> Path:
        """The file the token is read from."""
        return self._path

    @property
    def place(self) -> str:
        """Where the token is kept: the file's path, as given."""
        return str(self._path)

    def current(self) -> TokenState:
        """The tokens accepted now: the file's, plus the previous one until its grace ends."""
        return self._token.current()

    def refresh(self) -> bool:
        """Re-read the file; return True when what it says changed since the last read."""
        token: str | None
        reason: str | None
        try:
            text = read_token_text(self._path)
        except AuthenticationError as exc:
            seen: object = ("unreadable", str(exc))
            token, reason = None, f"the configured {self._kind.name} cannot be read: {exc}"
        else:
            seen = text
            token, reason = self._judge(text)
        if seen == self._seen:
            return False
        self._token.apply(token, reason, place=self.place)
        self._seen = seen  # only once applied: a change whose apply failed is tried again
        return True

    def _judge(self, text: str | None) -> tuple[str | None, str | None]:
        """The usable token in ``text`` and ``None``, or ``None`` and why there is none."""
        if text is None:
            return (
                None,
                f"the {self._kind.name} file {self._path} does not exist; {self._fix_hint()}",
            )
        return judge_kept_token(
            text, place=self.place, fix_hint=self._fix_hint(), name=self._kind.name
        )

    def _exists(self) -> bool:
        try:
            return read_token_text(self._path) is not None
        except AuthenticationError:
            return True  # there, but unreadable: refresh() records why

    def _generate(self) -> None:
        if create_token_file(self._path, generate_token()):
            logger.info(
                "Generated a new %s in %s (mode 0600); print it with "
                "`license-service token get%s --data-dir %s`",
                self._kind.name,
                self._path,
                self._kind.flag,
                self._path.parent,
            )

    def _fix_hint(self) -> str:
        flag = self._kind.flag
        if self._generated_here:
            return (
                f"write a valid token with `license-service token set{flag} --data-dir "
                f"{self._path.parent} -` or `license-service token generate{flag} --data-dir "
                f"{self._path.parent}`"
            )
        return (
            "put a valid token in it: edit the Secret mounted there, or run "
            f"`license-service token set --token-file {self._path} -` or `license-service "
            f"token generate --token-file {self._path}`"
        )
