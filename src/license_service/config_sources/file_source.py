"""The ``IBMLicensing`` configuration in force, followed live from the ``--config`` file (SPEC 6).

Readers call ``current()`` whenever they need the configuration (the sampler at
each tick, the authenticator at each request), so an edit applies without a
restart: removing ``urlBasedEnabled: false`` turns URL tokens back on at the next
``check``. The file is compared by content, not by modification time: a mounted
ConfigMap is swapped through a symbolic link whose target keeps old timestamps.

Guarantees:

- an invalid, unreadable or deleted file never half-applies: the previous
  configuration stays in force, ``problem()`` says why (shown under ``/health``
  warnings) and one log line says so per distinct problem;
- without ``--config`` the defaults are in force and never change;
- ``current()`` is cheap and never reads the file (``check`` does, from a watcher).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from license_service.config_sources.rules import ConfigRule
from license_service.config_sources.source import FollowedConfig
from license_service.configuration.config_file import load_licensing_file
from license_service.configuration.ibmlicensing import LicensingConfig
from license_service.errors import ConfigurationError

logger = logging.getLogger(__name__)


class LicensingConfigWatcher(FollowedConfig):
    """The configuration of ``path`` (or the defaults when ``path`` is ``None``), kept current."""

    def __init__(
        self, path: Path | None, *, clock: Callable[[], datetime], rule: ConfigRule | None = None
    ) -> None:
        """Start from the defaults; ``load`` or ``check`` reads the file; ``rule`` may refuse."""
        super().__init__(clock=clock)
        self._path = path
        self._rule = rule
        self._seen: bytes | str | None = None

    @classmethod
    def load(
        cls, path: Path | None, *, clock: Callable[[], datetime], rule: ConfigRule | None = None
    ) -> LicensingConfigWatcher:
        """Create the watcher and read ``path`` once; ``ConfigurationError`` when it is invalid.

        At startup an invalid file stops the service: there is no previous
        configuration to keep, and starting with defaults could turn on URL tokens
        the operator meant to keep off.
        """
        watcher = cls(path, clock=clock, rule=rule)
        if path is not None:
            seen = _read_bytes(path)
            config = watcher._load(path)
            watcher._put_in_force(config)
            watcher._seen = seen
            for warning in config.warnings:
                logger.warning("%s", warning)
            for note in config.notes:
                logger.debug("%s", note)
        return watcher

    @property
    def path(self) -> Path | None:
        """The file followed, or ``None`` when the defaults are in force."""
        return self._path

    def check(self) -> bool:
        """Re-read the file if its content changed; True when a new configuration applies.

        Never raises for a bad file: the previous configuration stays in force.
        """
        if self._path is None:
            return False
        try:
            seen: bytes | str = _read_bytes(self._path)
        except ConfigurationError as exc:
            seen = str(exc)
        if seen == self._seen:
            return False
        self._seen = seen
        try:
            config = self._load(self._path)
        except ConfigurationError as exc:
            kept, _ = self._refusal(str(exc))
            logger.error("Configuration not applied: %s; %s until the file is fixed", exc, kept)
            return False
        before, had_problem = self._put_in_force(config)
        if had_problem:
            logger.info("Configuration file %s is valid again", self._path)
        return self._announce(before, config, where=self._path)

    def _load(self, path: Path) -> LicensingConfig:
        """The configuration of ``path``, if it is valid and the rule lets it apply here."""
        config = load_licensing_file(path)
        if self._rule is not None:
            try:
                self._rule(config)
            except ConfigurationError as exc:
                raise ConfigurationError(f"{path}: {exc}") from exc
        return config


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigurationError(
            f"{path}: configuration file not found; give the path of an IBMLicensing YAML file"
        ) from exc
    except OSError as exc:
        raise ConfigurationError(
            f"{path}: cannot read the configuration file: {exc.strerror or exc}"
        ) from exc
