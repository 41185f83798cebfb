"""The Reporter's token and CA read from Secrets (SPEC 11), through the real Kubernetes client
against the fake API server: the default Secret name, a missing Secret or key named in the
message, and the CA read only when validation is on."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from kubernetes import client

from license_service.configuration.sender_settings import SenderSettings
from license_service.errors import ConfigurationError
from license_service.reporting.reporter_credentials import ReporterFiles
from license_service.secrets.reporter_secrets import ReporterSecrets
from tests.kubernetes_fake.server import FakeApiServer

NAMESPACE = "ibm-licensing"
SETTINGS = SenderSettings(reporter_url="https://reporter.example.com")


def secret(name: str, **data: bytes) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "data": {key: base64.b64encode(value).decode() for key, value in data.items()},
    }


@pytest.fixture
def secrets(fake_api: FakeApiServer, kube_client: client.ApiClient) -> ReporterSecrets:
    fake_api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    return ReporterSecrets(kube_client, namespace=NAMESPACE)


def test_the_token_comes_from_the_default_secret(
    fake_api: FakeApiServer, secrets: ReporterSecrets
) -> None:
    fake_api.create(secret("ibm-license-service-reporter-token", token=b"s3cret-token\n"))
    assert secrets.token(SETTINGS) == "s3cret-token"


def test_a_missing_secret_or_key_is_named_without_any_value(
    fake_api: FakeApiServer, secrets: ReporterSecrets
) -> None:
    with pytest.raises(ConfigurationError, match="reporter-token does not exist"):
        secrets.token(SETTINGS)
    fake_api.create(secret("ibm-license-service-reporter-token", other=b"s3cret-token"))
    with pytest.raises(ConfigurationError, match="has no key token") as refused:
        secrets.token(SETTINGS)
    assert "s3cret" not in str(refused.value)


def test_the_ca_is_read_only_when_validation_is_on(
    fake_api: FakeApiServer, secrets: ReporterSecrets
) -> None:
    fake_api.create(secret("reporter-ca", **{"ca.crt": b"-----BEGIN CERTIFICATE-----"}))
    named = SenderSettings(reporter_url="https://r", reporter_certs_secret_name="reporter-ca")
    assert secrets.ca(named) is None
    validating = SenderSettings(
        reporter_url="https://r",
        reporter_certs_secret_name="reporter-ca",
        validate_reporter_certs=True,
    )
    assert secrets.ca(validating) == b"-----BEGIN CERTIFICATE-----"


def test_a_token_file_takes_the_place_of_the_secret(
    fake_api: FakeApiServer, secrets: ReporterSecrets, tmp_path: Any
) -> None:
    fake_api.create(secret("ibm-license-service-reporter-token", token=b"from-the-secret"))
    token_file = tmp_path / "token"
    token_file.write_text("from-the-file\n")
    assert ReporterFiles(token_file, None, secrets=secrets).token(SETTINGS) == "from-the-file"
    assert ReporterFiles(None, None, secrets=secrets).token(SETTINGS) == "from-the-secret"
