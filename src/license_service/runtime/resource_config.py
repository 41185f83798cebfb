"""The configuration in force from the cluster's ``IBMLicensing`` resource (SPEC 6), followed live.

``LicensingResourceWatch`` (in ``cluster.kubernetes``) hands ``receive`` the winning
document (the oldest resource) each time the resources change, from its thread;
readers call ``current()`` (the sampler at each tick, the authenticator at each
request), so ``kubectl patch`` or ``kubectl edit`` of the resource applies without a
restart: removing ``urlBasedEnabled: false`` turns URL tokens back on.

Guarantees, as for the ``--config`` file (``config_watcher``):

- an invalid document never half-applies: the previous configuration stays in force,
  ``problem()`` says why (shown under ``/health`` warnings), and one error line is
  logged per distinct problem;
- no resource at all (none created yet, or the last one deleted) means the defaults;
- every valid change logs one line per changed field and calls the listeners;
- ``current()`` is cheap and never touches the network.

Whether an invalid document at startup stops the service is the caller's choice
(``started_invalid``): there is then no previous configuration to keep.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from license_service.configuration.ibmlicensing import LicensingConfig, parse_ibmlicensing
from license_service.errors import ConfigurationError
from license_service.runtime.config_changes import describe_changes
from license_service.runtime.config_source import OnChange

logger = logging.getLogger(__name__)


class LicensingResourceConfig:
    """The configuration of the ``IBMLicensing`` resource in force, or the defaults."""

    def __init__(self, *, clock: Callable[[], datetime]) -> None:
        """Start from the defaults until ``receive`` is first called."""
        self._clock = clock
        # receive() runs in the watch thread while current() is read on the event loop.
        self._lock = threading.Lock()
        self._config = LicensingConfig()
        self._source = "defaults (no IBMLicensing resource)"
        self._loaded_at: datetime | None = None
        self._problem: str | None = None
        self._received = False
        self._listeners: list[OnChange] = []

    def current(self) -> LicensingConfig:
        """The configuration in force now."""
        with self._lock:
            return self._config

    def problem(self) -> str | None:
        """Why the resource's latest content is not in force, or ``None`` when it is."""
        with self._lock:
            return self._problem

    def warnings(self) -> list[str]:
        """What ``/health`` should show: the problem, then the ignored fields."""
        with self._lock:
            return [*([self._problem] if self._problem else []), *self._config.warnings]

    @property
    def started_invalid(self) -> bool:
        """Whether the first document received was invalid (nothing valid applied yet)."""
        with self._lock:
            return self._received and self._loaded_at is None and self._problem is not None

    def add_listener(self, listener: OnChange) -> None:
        """Call ``listener`` after every valid change from now on."""
        self._listeners.append(listener)

    def receive(self, document: Mapping[str, Any] | None) -> None:
        """Apply the winning ``IBMLicensing`` document, or the defaults for ``None``.

        Never raises for an invalid document: the previous configuration stays in force.
        """
        if document is None:
            self._apply(LicensingConfig(), source="defaults (no IBMLicensing resource)")
            return
        source = _describe(document)
        try:
            config = parse_ibmlicensing(document)
        except ConfigurationError as error:
            self._refuse(str(error))
            return
        self._apply(config, source=source)

    def _apply(self, config: LicensingConfig, *, source: str) -> None:
        with self._lock:
            before, had_problem, first = self._config, self._problem is not None, not self._received
            previous_source = self._source
            self._config, self._problem, self._loaded_at = config, None, self._clock()
            self._source, self._received = source, True
        if first:
            logger.info("Configuration from %s", source)
        elif had_problem or source != previous_source:
            logger.info("Configuration now from %s", source)
        changes = describe_changes(before, config)
        for change in changes:
            logger.info("Configuration changed in %s: %s", source, change)
        if config.warnings != before.warnings:
            for warning in config.warnings:
                logger.warning("%s", warning)
        if config.notes != before.notes:
            for note in config.notes:
                logger.debug("%s", note)
        if changes:
            for listener in self._listeners:
                listener(config)

    def _refuse(self, error: str) -> None:
        with self._lock:
            self._received = True
            loaded_at = self._loaded_at
            kept = (
                f"the configuration read at {loaded_at.isoformat()} stays in force"
                if loaded_at is not None
                else "the default configuration stays in force"
            )
            problem = f"configuration not applied: {error}; {kept}"
            repeated = problem == self._problem
            self._problem = problem
        if not repeated:
            logger.error(
                "Configuration not applied: %s; %s until the resource is fixed "
                "(kubectl edit ibmlicensing)",
                error,
                kept,
            )


def _describe(document: Mapping[str, Any]) -> str:
    metadata = document.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    return f"IBMLicensing {name!r}" if isinstance(name, str) else "the IBMLicensing resource"
