"""No answer is a redirect, and none is built from the ``Host`` header.

Starlette's router answered ``/products/?token=T`` with ``307`` to
``http://<Host header>/products?token=T``: a link with a forged ``Host`` (or a proxy
passing one through) sent the caller's token to another domain. Now no route
redirects: a path that is not an endpoint is a 404, whatever its slashes, on the API
and on the metrics port, and the ``Host`` header appears in no answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry
from starlette.testclient import TestClient

from license_service.signing.keys import SigningKey
from license_service.store.database import Database
from license_service.web.application import create_metrics_app
from license_service.web.openapi import openapi_document
from tests.hostile.conftest import TOKEN, ServiceSettings, build_state

EVIL_HOST = "evil.example.com"
DOCUMENTED_PATHS = sorted(openapi_document("test")["paths"])


def variants(path: str) -> list[str]:
    """The path with slashes added, doubled, or encoded: every way a router might "fix" it."""
    if path == "/":  # "//x" would be read as a host by the client
        return ["/%2F", "/%2F/"]
    return [f"{path}/", f"{path}//", f"{path}/%2F"]


def assert_not_redirected(answer: httpx.Response, target: str) -> None:
    status, headers = answer.status_code, answer.headers
    assert not 300 <= status < 400, f"{target} answered {status} to {headers.get('location')}"
    assert "location" not in headers
    shown = str(headers) + answer.text
    assert EVIL_HOST not in shown, f"{target} echoed the Host header"
    assert TOKEN not in shown, f"{target} echoed the token"


@pytest.mark.parametrize("path", DOCUMENTED_PATHS)
def test_no_path_of_the_api_redirects_whatever_its_slashes(client: TestClient, path: str) -> None:
    for target in variants(path):
        answer = client.get(
            target, params={"token": TOKEN}, headers={"Host": EVIL_HOST}, follow_redirects=False
        )
        assert_not_redirected(answer, target)
        assert answer.status_code == 404, target


def test_the_issue_s_example_answers_404(client: TestClient) -> None:
    answer = client.get(
        "/products/", params={"token": TOKEN}, headers={"Host": EVIL_HOST}, follow_redirects=False
    )
    assert answer.status_code == 404
    assert_not_redirected(answer, "/products/")
    assert "without the trailing /" in answer.json()["message"]


@pytest.fixture
def metrics(
    database: Database, signing_key: SigningKey, tmp_path: Path, service_settings: ServiceSettings
) -> Iterator[TestClient]:
    state = build_state(database, signing_key, tmp_path, service_settings)
    with TestClient(create_metrics_app(state, CollectorRegistry())) as client:
        yield client


def test_the_metrics_port_does_not_redirect_either(metrics: TestClient) -> None:
    for target in variants("/metrics"):
        answer = metrics.get(target, headers={"Host": EVIL_HOST}, follow_redirects=False)
        assert_not_redirected(answer, target)
        assert answer.status_code == 404
