"""The Reporter's read API with service-account tokens, reviewed by a (fake) Kubernetes API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from kubernetes import client
from starlette.testclient import TestClient

from license_service.fleet.fleet_schema import open_fleet_database
from license_service.runtime.reporter_runtime import reporter_authenticator
from license_service.store.database import sqlite_url
from license_service.tokens.file_source import TokenFile
from license_service.tokens.kinds import REPORTER_TOKEN
from license_service.web.reporter.reporter_app import create_reporter_app
from license_service.web.reporter.reporter_state import ReporterState
from tests.kubernetes_fake.server import FakeApiServer
from tests.web.reporter.conftest import NOW, PERIOD, TOKEN

READER = "system:serviceaccount:reporting:fleet-reader"


@pytest.fixture
def reviewed(
    tmp_path: Path, fake_api: FakeApiServer, kube_client: client.ApiClient
) -> Iterator[TestClient]:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    tokens = TokenFile(
        token_file,
        generate_if_missing=False,
        grace_period=timedelta(0),
        clock=lambda: NOW,
        kind=REPORTER_TOKEN,
    )
    database = open_fleet_database(sqlite_url(tmp_path / "reporter.db"))
    state = ReporterState(
        database=database,
        authenticator=reporter_authenticator(tokens, kube_client),
        now=lambda: NOW,
    )
    with TestClient(create_reporter_app(state)) as test_client:
        yield test_client
    database.dispose()


def _status(client: TestClient, path: str, token: str) -> int:
    return client.get(path, params=PERIOD, headers={"Authorization": f"Bearer {token}"}).status_code


def test_kubernetes_decides_who_reads_the_fleet(
    reviewed: TestClient, fake_api: FakeApiServer
) -> None:
    fake_api.add_user("reader-token", READER, groups=("system:serviceaccounts",))
    fake_api.add_user("outsider-token", "system:serviceaccount:default:outsider")
    fake_api.allow(READER, "/products")
    assert _status(reviewed, "/products", "reader-token") == 200
    assert _status(reviewed, "/clusters", "reader-token") == 403
    assert _status(reviewed, "/products", "outsider-token") == 403
    assert _status(reviewed, "/products", "not-a-kubernetes-token") == 401
    assert _status(reviewed, "/products", TOKEN) == 200  # the Reporter token still works
    fake_api.faults.fail(None, status=503, path="/apis/authentication.k8s.io")
    assert _status(reviewed, "/products", "another-token") == 503  # never allowed on error


def test_a_request_without_credentials_is_told_to_send_the_reporter_token(
    reviewed: TestClient,
) -> None:
    refused = reviewed.get("/clusters", params=PERIOD)

    assert refused.status_code == 401
    message = refused.json()["message"]
    assert "?token=<Reporter token>" in message
    assert "Bearer <Reporter token or service-account token>" in message
    assert "API token" not in message
