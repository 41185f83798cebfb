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
- a ``rule`` (``config_rules``) refuses a valid document that cannot apply here, as an
  invalid one is refused;
- ``current()`` is cheap and never reads the file (``check`` does, from a watcher).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from license_service.configuration.config_file import load_licensing_file
from license_service.configuration.ibmlicensing import LicensingConfig
from license_service.errors import ConfigurationError
from license_service.runtime.config_changes import describe_changes
from license_service.runtime.config_rules import ConfigRule
from license_service.runtime.config_source import OnChange

logger = logging.getLogger(__name__)


class LicensingConfigWatcher:
    """The configuration of ``path`` (or the defaults when ``path`` is ``None``), kept current."""

    def __init__(
        self,
        path: Path | None,
        *,
        clock: Callable[[], datetime],
        on_change: OnChange | None = None,
        rule: ConfigRule | None = None,
    ) -> None:
        """Start from the defaults; ``load`` or ``check`` reads the file."""
        self._path = path
        self._clock = clock
        self._rule = rule
        self._listeners: list[OnChange] = [on_change] if on_change is not None else []
        # check() runs in a watcher thread while current() is read on the event loop.
        self._lock = threading.Lock()
        self._config = LicensingConfig()
        self._loaded_at: datetime | None = None
        self._seen: bytes | str | None = None
        self._problem: str | None = None

    @classmethod
    def load(
        cls,
        path: Path | None,
        *,
        clock: Callable[[], datetime],
        on_change: OnChange | None = None,
        rule: ConfigRule | None = None,
    ) -> LicensingConfigWatcher:
        """Create the watcher and read ``path`` once; ``ConfigurationError`` when it is invalid.

        At startup an invalid file stops the service: there is no previous
        configuration to keep, and starting with defaults could turn on URL tokens
        the operator meant to keep off.
        """
        watcher = cls(path, clock=clock, on_change=on_change, rule=rule)
        if path is not None:
            seen = _read_bytes(path)
            config = watcher._load(path)
            with watcher._lock:
                watcher._config, watcher._seen, watcher._loaded_at = config, seen, clock()
            for warning in config.warnings:
                logger.warning("%s", warning)
            for note in config.notes:
                logger.debug("%s", note)
        return watcher

    @property
    def path(self) -> Path | None:
        """The file followed, or ``None`` when the defaults are in force."""
        return self._path

    def current(self) -> LicensingConfig:
        """The configuration in force now."""
        with self._lock:
            return self._config

    def problem(self) -> str | None:
        """Why the file's latest content is not in force, or ``None`` when it is."""
        with self._lock:
            return self._problem

    def warnings(self) -> list[str]:
        """What ``/health`` should show about the configuration: the problem, ignored fields."""
        with self._lock:
            return [*([self._problem] if self._problem else []), *self._config.warnings]

    def add_listener(self, listener: OnChange) -> None:
        """Call ``listener`` after every valid change from now on."""
        self._listeners.append(listener)

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
            self._refuse(str(exc))
            return False
        return self._apply(config)

    def _load(self, path: Path) -> LicensingConfig:
        """The configuration of ``path``, if it is valid and the rule lets it apply here."""
        config = load_licensing_file(path)
        if self._rule is not None:
            try:
                self._rule(config)
            except ConfigurationError as exc:
                raise ConfigurationError(f"{path}: {exc}") from exc
        return config

    def _apply(self, config: LicensingConfig) -> bool:
        with self._lock:
            before, had_problem = self._config, self._problem is not None
            self._config, self._problem, self._loaded_at = config, None, self._clock()
        changes = describe_changes(before, config)
        if had_problem:
            logger.info("Configuration file %s is valid again", self._path)
        for change in changes:
            logger.info("Configuration changed in %s: %s", self._path, change)
        if config.warnings != before.warnings:
            for warning in config.warnings:
                logger.warning("%s", warning)
        if config.notes != before.notes:
            for note in config.notes:
                logger.debug("%s", note)
        if not changes:
            return False
        for listener in self._listeners:
            listener(config)
        return True

    def _refuse(self, error: str) -> None:
        with self._lock:
            loaded_at = self._loaded_at
            kept = (
                f"the configuration read at {loaded_at.isoformat()} stays in force"
                if loaded_at is not None
                else "the default configuration stays in force"
            )
            self._problem = f"configuration not applied: {error}; {kept}"
        logger.error("Configuration not applied: %s; %s until the file is fixed", error, kept)


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
