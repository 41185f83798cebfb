"""The Reporter's token and CA kept in Secrets of the service's namespace (SPEC 11).

``spec.sender.reporterSecretToken`` names the token's Secret (key ``token``),
``spec.sender.reporterCertsSecretName`` the CA's (key ``ca.crt``). Both are read with
``get`` before every round of pushes; a missing Secret or key is a
``ConfigurationError`` naming it. No message holds a Secret's content.
"""

from __future__ import annotations

from kubernetes import client

from license_service.configuration.sender_settings import (
    REPORTER_CA_KEY,
    REPORTER_TOKEN_KEY,
    SenderSettings,
    checked_token,
)
from license_service.errors import ClusterError, ConfigurationError
from license_service.secrets.secret_access import decode_value, read_secret, secret_label


class ReporterSecrets:
    """Reads the Reporter's Secrets in ``namespace`` through ``api_client``."""

    def __init__(self, api_client: client.ApiClient, *, namespace: str) -> None:
        self._core = client.CoreV1Api(api_client)
        self._namespace = namespace

    def value(self, name: str, key: str) -> bytes:
        """``data.<key>`` of Secret ``name``; ``ConfigurationError`` when absent."""
        label = secret_label(self._namespace, name)
        try:
            secret = read_secret(self._core, namespace=self._namespace, name=name)
        except ClusterError as error:
            raise ConfigurationError(str(error)) from error
        if secret is None:
            raise ConfigurationError(
                f"{label} does not exist; create it with key {key} (see README, Many clusters)"
            )
        try:
            value = decode_value(secret, key)
        except ValueError as error:
            raise ConfigurationError(f"{label}: {error}") from error
        if value is None:
            raise ConfigurationError(f"{label} has no key {key}; add it")
        return value

    def token(self, settings: SenderSettings) -> str:
        """The token of Secret ``spec.sender.reporterSecretToken``."""
        name = settings.reporter_secret_token
        return checked_token(
            self.value(name, REPORTER_TOKEN_KEY), place=secret_label(self._namespace, name)
        )

    def ca(self, settings: SenderSettings) -> bytes | None:
        """The CA of Secret ``spec.sender.reporterCertsSecretName`` when
        ``validateReporterCerts`` is on (``None``: the Reporter is not verified)."""
        name = settings.reporter_certs_secret_name
        if not settings.validate_reporter_certs or name is None:
            return None
        return self.value(name, REPORTER_CA_KEY)
