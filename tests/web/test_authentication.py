"""The authentication gate of the data endpoints (SPEC 3, 4): who gets in, and the refusals."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from license_service.auth.authenticators import ApiTokenAuthenticator
from license_service.auth.credentials import Credentials
from license_service.auth.failed_attempts import FailedAttemptLimiter
from license_service.auth.identities import Denied, Identity
from license_service.configuration.ibmlicensing import LicensingConfig
from license_service.tokens.file_source import TokenFile
from license_service.web.app_state import AppState
from license_service.web.application import PROTECTED_PATHS, PUBLIC_PATHS, create_app
from license_service.web.probes.service_routes import current_health
from tests.web.conftest import TOKEN, World, authorized

REALM = 'Bearer realm="license-service"'


@pytest.mark.parametrize("path", PROTECTED_PATHS)
def test_a_data_endpoint_without_credentials_answers_401_with_the_bearer_challenge(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == REALM
    body = response.json()
    assert (body["status"], body["error"]) == (401, "Unauthorized")
    assert "?token=" in body["message"]


# Past the gate, a path that needs parameters refuses their absence (400), not the caller.
ACCEPTED_WITHOUT_PARAMETERS = {"/usage_explained": 400}


@pytest.mark.parametrize("path", PROTECTED_PATHS)
def test_a_data_endpoint_accepts_the_api_token_in_the_url(client: TestClient, path: str) -> None:
    expected = ACCEPTED_WITHOUT_PARAMETERS.get(path, 200)
    assert client.get(path, params=authorized()).status_code == expected


@pytest.mark.parametrize("path", PROTECTED_PATHS)
def test_a_data_endpoint_accepts_the_api_token_as_a_bearer_token(
    client: TestClient, path: str
) -> None:
    response = client.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == ACCEPTED_WITHOUT_PARAMETERS.get(path, 200)


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_public_endpoints_need_no_token(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 200


def test_a_wrong_token_answers_401_without_echoing_it(client: TestClient) -> None:
    response = client.get("/products", params={"token": "not-the-token-at-all"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == REALM
    assert "not-the-token-at-all" not in response.text
    assert "not this service's API token" in response.json()["message"]


def test_url_tokens_turned_off_refuse_the_token_and_point_to_service_accounts(
    client: TestClient, world: World
) -> None:
    world.licensing = LicensingConfig(url_based_enabled=False)
    response = client.get("/products", params=authorized())
    assert response.status_code == 401
    assert "service-account token" in response.json()["message"]
    world.licensing = LicensingConfig()
    assert client.get("/products", params=authorized()).status_code == 200


def test_repeated_failures_answer_429_with_retry_after(client: TestClient) -> None:
    for _ in range(3):
        assert client.get("/health", params={"token": "wrong-token-0000000"}).status_code == 401
    response = client.get("/health", params=authorized())
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["status"] == 429


def test_an_invalid_configured_token_fails_closed_and_health_says_why(
    state: AppState, world: World, tmp_path: Path
) -> None:
    bad_file = tmp_path / "bad-token"
    bad_file.write_text("has space inside it!!")
    bad_file.chmod(0o600)
    authenticator = ApiTokenAuthenticator(
        TokenFile(
            bad_file, generate_if_missing=False, grace_period=timedelta(0), clock=lambda: world.now
        ),
        url_based_enabled=lambda: True,
        limiter=FailedAttemptLimiter(),
        clock=lambda: world.now,
    )
    broken = dataclasses.replace(state, authenticator=authenticator)
    with TestClient(create_app(broken)) as client:
        refused = client.get("/products", params={"token": "has space inside it!!"})
        assert refused.status_code == 401
        assert "configured on the server is invalid" in refused.json()["message"]
    health = current_health(broken)
    assert health["status"] == "DEGRADED"
    assert any("configured API token" in warning for warning in health["warnings"])


class FixedDecision:
    """An ``Authenticator`` double answering one decision, recording what it was asked."""

    def __init__(self, decision: Identity | Denied) -> None:
        self.decision = decision
        self.asked: list[tuple[Credentials, str, str]] = []

    async def authenticate(
        self, credentials: Credentials, *, path: str, client: str
    ) -> Identity | Denied:
        self.asked.append((credentials, path, client))
        return self.decision

    def problem(self) -> str | None:
        return None


def client_with(state: AppState, decision: Identity | Denied) -> tuple[TestClient, FixedDecision]:
    authenticator = FixedDecision(decision)
    app = create_app(dataclasses.replace(state, authenticator=authenticator))
    return TestClient(app), authenticator


@pytest.mark.parametrize(
    ("denied", "headers"),
    [
        pytest.param(Denied(403, "forbidden", "user x may not get /products"), {}, id="403"),
        pytest.param(
            Denied(503, "kubernetes-unreachable", "cannot review tokens now"), {}, id="503"
        ),
        pytest.param(
            Denied(429, "rate-limited", "slow down", retry_after=7), {"retry-after": "7"}, id="429"
        ),
    ],
)
def test_a_denial_becomes_its_status_and_message(
    state: AppState, denied: Denied, headers: dict[str, str]
) -> None:
    client, _ = client_with(state, denied)
    response = client.get("/products", headers={"Authorization": "Bearer some-account-token"})
    assert response.status_code == denied.status
    assert response.json()["message"] == denied.message
    assert "www-authenticate" not in response.headers
    for name, value in headers.items():
        assert response.headers[name] == value


def test_the_gate_passes_the_credentials_path_and_client_to_the_authenticator(
    state: AppState,
) -> None:
    client, authenticator = client_with(state, Identity("service-account", "system:sa:reader"))
    response = client.get(
        "/services",
        headers={"Authorization": "Bearer account-token"},
        params={"token": "url-token"},
    )
    assert response.status_code == 200
    credentials, path, host = authenticator.asked[0]
    assert (credentials.bearer, credentials.url_token) == ("account-token", "url-token")
    assert (path, host) == ("/services", "testclient")


def test_the_status_page_names_the_identity_that_opened_it(state: AppState) -> None:
    client, _ = client_with(state, Identity("service-account", "system:serviceaccount:ns:reader"))
    page = client.get("/status").text
    assert "service-account (system:serviceaccount:ns:reader)" in page
