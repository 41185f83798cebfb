"""Configurations that are valid documents but cannot apply where the service runs.

``IBMLicensing`` is written for a Kubernetes cluster. Outside one (dump files, the
demo), the API token is the only way in: service-account tokens are checked with a
TokenReview, which needs the Kubernetes API. ``spec.features.auth.urlBasedEnabled:
false`` there would lock every caller out, with a 401 that tells them to use a
service-account token they cannot use. SPEC 6 refuses invalid values with a clear
message and keeps the previous configuration in force; this value is refused the same
way outside Kubernetes (at start, the service does not start).
"""

from __future__ import annotations

from collections.abc import Callable

from license_service.configuration.ibmlicensing import LicensingConfig
from license_service.errors import ConfigurationError

ConfigRule = Callable[[LicensingConfig], None]
"""Raises ``ConfigurationError`` when a configuration cannot apply here."""


def url_tokens_required(config: LicensingConfig) -> None:
    """Refuse URL tokens turned off: outside Kubernetes nothing else lets a caller in."""
    if not config.url_based_enabled:
        raise ConfigurationError(
            "spec.features.auth.urlBasedEnabled: false turns off the API token, the only way "
            "in for a service that runs without Kubernetes (service-account tokens need the "
            "Kubernetes API: serve --kubeconfig, or in a pod); remove the line or set it to true"
        )
