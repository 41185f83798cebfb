"""Where the ``IBMLicensing`` configuration in force comes from: a file or the cluster's resource.

Outside Kubernetes (or with ``--config``) the document is a YAML file
(``file_source.LicensingConfigWatcher``); in Kubernetes it is the cluster's
``IBMLicensing`` resource (``resource_source.LicensingResourceConfig``). Both are a
``LicensingConfigSource``, and both are a ``FollowedConfig``: they keep the previous
configuration when a new one is invalid, say why in ``warnings`` (shown under
``/health``), log one line per changed field, and call their listeners after each
valid change; the rest of the service reads ``current()`` and does not care which
one it has.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from license_service.config_sources.changes import describe_changes
from license_service.configuration.ibmlicensing import LicensingConfig

logger = logging.getLogger(__name__)

OnChange = Callable[[LicensingConfig], None]
"""Called with the new configuration after a valid change was applied."""


class LicensingConfigSource(Protocol):
    """The configuration in force, followed while the service runs."""

    def current(self) -> LicensingConfig:
        """The configuration in force now; cheap, never blocks."""
        ...

    def problem(self) -> str | None:
        """Why the latest document is not in force, or ``None`` when it is."""
        ...

    def warnings(self) -> list[str]:
        """What ``/health`` should show about the configuration."""
        ...

    def add_listener(self, listener: OnChange) -> None:
        """Call ``listener`` after every valid change from now on."""
        ...


class FollowedConfig:
    """The configuration in force, why the latest document is not (if so), and the listeners.

    A subclass reads documents (from its thread) and calls ``_put_in_force``,
    ``_announce`` and ``_refusal``; readers call ``current()`` from any thread.
    """

    def __init__(self, *, clock: Callable[[], datetime]) -> None:
        """Start from the defaults."""
        self._clock = clock
        # Documents arrive in a watcher thread while current() is read on the event loop.
        self._lock = threading.Lock()
        self._config = LicensingConfig()
        self._loaded_at: datetime | None = None
        self._problem: str | None = None
        self._listeners: list[OnChange] = []

    def current(self) -> LicensingConfig:
        """The configuration in force now."""
        with self._lock:
            return self._config

    def problem(self) -> str | None:
        """Why the latest document is not in force, or ``None`` when it is."""
        with self._lock:
            return self._problem

    def warnings(self) -> list[str]:
        """What ``/health`` should show about the configuration: the problem, ignored fields."""
        with self._lock:
            return [*([self._problem] if self._problem else []), *self._config.warnings]

    def add_listener(self, listener: OnChange) -> None:
        """Call ``listener`` after every valid change from now on."""
        self._listeners.append(listener)

    def _put_in_force(self, config: LicensingConfig) -> tuple[LicensingConfig, bool]:
        """Make ``config`` the one in force; the one before and whether a problem was cleared."""
        with self._lock:
            before, had_problem = self._config, self._problem is not None
            self._config, self._problem, self._loaded_at = config, None, self._clock()
        return before, had_problem

    def _announce(self, before: LicensingConfig, config: LicensingConfig, *, where: object) -> bool:
        """Log what changed (one line per field) and call the listeners; False when nothing did."""
        changes = describe_changes(before, config)
        for change in changes:
            logger.info("Configuration changed in %s: %s", where, change)
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

    def _refusal(self, error: str) -> tuple[str, bool]:
        """Record that a document was refused for ``error``: what stays in force, and whether
        the problem is the one recorded already."""
        with self._lock:
            loaded_at = self._loaded_at
            kept = (
                f"the configuration read at {loaded_at.isoformat()} stays in force"
                if loaded_at is not None
                else "the default configuration stays in force"
            )
            problem = f"configuration not applied: {error}; {kept}"
            repeated = problem == self._problem
            self._problem = problem
        return kept, repeated
