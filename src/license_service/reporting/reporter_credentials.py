"""The Reporter's token and CA (SPEC 11): from files outside Kubernetes, else from Secrets.

Read before every round of pushes, so a rotated token or CA is used at the next push.
A missing or unusable token is a ``ConfigurationError`` saying where it was looked for
and how to fix it; no message holds the token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from license_service.configuration.sender_settings import SenderSettings, checked_token
from license_service.errors import ConfigurationError


class ReporterCredentials(Protocol):
    """Where the Reporter's token and CA are kept."""

    def token(self, settings: SenderSettings) -> str:
        """The token to push with; ``ConfigurationError`` when it cannot be had."""
        ...

    def ca(self, settings: SenderSettings) -> bytes | None:
        """The CA to verify the Reporter with (``None``: none given)."""
        ...


class ReporterFiles:
    """``--reporter-token-file`` and ``--reporter-ca-file``; without one, ``secrets`` (in
    Kubernetes) keeps that part."""

    def __init__(
        self,
        token_file: Path | None,
        ca_file: Path | None,
        *,
        secrets: ReporterCredentials | None = None,
    ) -> None:
        self._token_file = token_file
        self._ca_file = ca_file
        self._secrets = secrets

    def token(self, settings: SenderSettings) -> str:
        """The token file's content (else the Secret's)."""
        if self._token_file is None and self._secrets is not None:
            return self._secrets.token(settings)
        if self._token_file is None:
            raise ConfigurationError(
                "no Reporter token: outside Kubernetes, give --reporter-token-file FILE "
                "holding the Reporter's token"
            )
        return checked_token(
            _read(self._token_file, "--reporter-token-file"), place=str(self._token_file)
        )

    def ca(self, settings: SenderSettings) -> bytes | None:
        """The CA file's content, when one was given (else the Secret's)."""
        if self._ca_file is None:
            return None if self._secrets is None else self._secrets.ca(settings)
        return _read(self._ca_file, "--reporter-ca-file")


def _read(path: Path, flag: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ConfigurationError(
            f"{flag} {path} cannot be read ({error.strerror}); give a readable file"
        ) from error
