"""``--entitlements FILE`` (SPEC 13), followed while the service runs, compared by content.

As for ``--config``: a mounted ConfigMap is swapped through a symbolic link whose target
keeps old timestamps, so the file is compared by its bytes, not its time. At start an
invalid or unreadable file stops the service (``load`` raises ``ConfigurationError``:
the operator named a file, and starting without it would hide that); later, a bad edit
keeps the previous entitlements in force (``FollowedEntitlements``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from license_service.configuration.entitlement_documents import parse_entitlements
from license_service.entitlement_sources.followed import FollowedEntitlements
from license_service.errors import ConfigurationError


class EntitlementsFile(FollowedEntitlements):
    """The entitlements of ``path``, re-read by ``check`` when its content changes."""

    def __init__(self, path: Path, *, clock: Callable[[], datetime]) -> None:
        """Nothing is read until ``load`` or ``check``."""
        super().__init__(clock=clock)
        self.path = path
        self._seen: bytes | str | None = None

    @classmethod
    def load(cls, path: Path, *, clock: Callable[[], datetime]) -> EntitlementsFile:
        """Read ``path`` once; ``ConfigurationError`` when it cannot be read or is invalid."""
        followed = cls(path, clock=clock)
        followed._seen = _read(path)
        text = _text(followed._seen, path)
        try:
            parse_entitlements(text, source=str(path))  # refused here: no "kept" to tell
        except ConfigurationError as error:
            raise ConfigurationError(f"{error}; fix --entitlements {path}") from error
        followed.receive(text, source=str(path))
        return followed

    def check(self) -> bool:
        """Re-read the file if its content changed; True when new entitlements apply."""
        try:
            seen: bytes | str = _read(self.path)
        except ConfigurationError as error:
            seen = str(error)
        if seen == self._seen:
            return False
        self._seen = seen
        if isinstance(seen, str):
            self.refuse(seen)
            return False
        try:
            text = _text(seen, self.path)
        except ConfigurationError as error:
            self.refuse(str(error))
            return False
        return self.receive(text, source=str(self.path))


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as error:
        raise ConfigurationError(
            f"{path}: entitlements file not found; give the path of a YAML list of entitlements"
        ) from error
    except OSError as error:
        raise ConfigurationError(
            f"{path}: cannot read the entitlements file: {error.strerror or error}"
        ) from error


def _text(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigurationError(
            f"{path}: not UTF-8 text (byte {error.start}); save the entitlements as UTF-8 YAML"
        ) from error
