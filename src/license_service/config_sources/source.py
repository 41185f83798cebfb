"""Where the ``IBMLicensing`` configuration in force comes from: a file or the cluster's resource.

Outside Kubernetes (or with ``--config``) the document is a YAML file
(``config_watcher.LicensingConfigWatcher``); in Kubernetes it is the cluster's
``IBMLicensing`` resource (``resource_config.LicensingResourceConfig``). Both keep the
previous configuration when a new one is invalid, say why in ``warnings`` (shown
under ``/health``), and call their listeners after each valid change; the rest of the
service reads ``current()`` and does not care which one it has.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from license_service.configuration.ibmlicensing import LicensingConfig

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
