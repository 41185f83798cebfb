"""The configuration in force from the cluster's ``IBMLicensing`` resource (SPEC 6), followed live.

``LicensingResourceWatch`` (in ``secrets``) hands ``receive`` the winning
document (the oldest resource) each time the resources change, from its thread;
readers call ``current()`` (the sampler at each tick, the authenticator at each
request), so ``kubectl patch`` or ``kubectl edit`` of the resource applies without a
restart: removing ``urlBasedEnabled: false`` turns URL tokens back on.

Guarantees, as for the ``--config`` file (``file_source``), with ``FollowedConfig``:

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
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from license_service.config_sources.source import FollowedConfig
from license_service.configuration.ibmlicensing import LicensingConfig, parse_ibmlicensing
from license_service.errors import ConfigurationError

logger = logging.getLogger(__name__)

_DEFAULTS: Final = "defaults (no IBMLicensing resource)"


class LicensingResourceConfig(FollowedConfig):
    """The configuration of the ``IBMLicensing`` resource in force, or the defaults."""

    def __init__(self, *, clock: Callable[[], datetime]) -> None:
        """Start from the defaults until ``receive`` is first called."""
        super().__init__(clock=clock)
        # Written only by the thread that calls receive().
        self._source = _DEFAULTS
        self._received = False

    @property
    def started_invalid(self) -> bool:
        """Whether the first document received was invalid (nothing valid applied yet)."""
        with self._lock:
            return self._received and self._loaded_at is None and self._problem is not None

    def receive(self, document: Mapping[str, Any] | None) -> None:
        """Apply the winning ``IBMLicensing`` document, or the defaults for ``None``.

        Never raises for an invalid document: the previous configuration stays in force.
        """
        if document is None:
            self._apply(LicensingConfig(), source=_DEFAULTS)
            return
        source = _describe(document)
        try:
            config = parse_ibmlicensing(document)
        except ConfigurationError as error:
            self._refuse(str(error))
            return
        self._apply(config, source=source)

    def _apply(self, config: LicensingConfig, *, source: str) -> None:
        first, previous_source = not self._received, self._source
        self._source, self._received = source, True
        before, had_problem = self._put_in_force(config)
        if first:
            logger.info("Configuration from %s", source)
        elif had_problem or source != previous_source:
            logger.info("Configuration now from %s", source)
        self._announce(before, config, where=source)

    def _refuse(self, error: str) -> None:
        self._received = True
        kept, repeated = self._refusal(error)
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
