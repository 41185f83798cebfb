"""Every answer of the API carries the headers that keep tokens and data out of caches and pages.

Tokens travel in URLs, so every answer (JSON, CSV, zip, HTML, and every error) must
say ``Cache-Control: no-store``, send no ``Referer`` onwards, forbid type sniffing and
carry a Content-Security-Policy. Every route listed in the OpenAPI document is asked,
and every kind of error answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from license_service.signing.keys import SigningKey
from license_service.store.database import Database
from license_service.web.application import UPLOAD_PATHS, create_app
from license_service.web.openapi import openapi_document
from tests.hostile.conftest import TOKEN, ServiceSettings, build_state

DOCUMENTED_PATHS = sorted(openapi_document("test")["paths"])
# What a path needs besides the token to answer 200 on the seeded store.
NEEDED = {"/usage_explained": {"productId": "html", "metricName": "VIRTUAL_PROCESSOR_CORE"}}
EXPECTED = {
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}


def assert_hardened(headers: httpx.Headers, what: str) -> None:
    for name, value in EXPECTED.items():
        assert headers.get_list(name) == [value], f"{what}: {name} is {headers.get(name)!r}"
    policy = headers.get("content-security-policy")
    assert policy, f"{what}: no Content-Security-Policy"
    assert "default-src 'none'" in policy, f"{what}: {policy}"
    assert "frame-ancestors 'none'" in policy, f"{what}: {policy}"


def test_every_documented_route_is_asked(client: TestClient) -> None:
    assert set(DOCUMENTED_PATHS) == set(client.get("/openapi.json").json()["paths"])


@pytest.mark.parametrize("path", DOCUMENTED_PATHS)
def test_every_documented_route_answers_with_the_headers(client: TestClient, path: str) -> None:
    if path in UPLOAD_PATHS:
        # POST only, and the API token is not an upload token: a refusal, hardened alike.
        response = client.post(path, params={"token": TOKEN}, json=[])
        assert response.status_code in (401, 403, 503), response.text
    else:
        response = client.get(path, params={"token": TOKEN, **NEEDED.get(path, {})})
        assert response.status_code == 200, response.text
    assert_hardened(response.headers, path)


@pytest.mark.parametrize(
    "path", ["/products", "/bundled_products", "/services", "/usage_explained"]
)
def test_csv_exports_answer_with_the_headers(client: TestClient, path: str) -> None:
    response = client.get(path, params={"token": TOKEN, "format": "csv", **NEEDED.get(path, {})})

    assert response.headers["content-type"].startswith("text/csv")
    assert_hardened(response.headers, f"{path} as CSV")


@pytest.mark.parametrize(
    ("what", "path", "params", "status"),
    [
        pytest.param("no token", "/products", {}, 401, id="401-missing"),
        pytest.param("wrong token", "/products", {"token": "x" * 24}, 401, id="401-wrong"),
        pytest.param("bad date", "/products", {"token": TOKEN, "dateFrom": "x"}, 400, id="400"),
        pytest.param("unknown path", "/nowhere", {}, 404, id="404"),
        pytest.param("long query", "/products", {"token": TOKEN, "x": "y" * 9_000}, 414, id="414"),
        pytest.param(
            "many parameters",
            "/products",
            {"token": TOKEN, **{f"p{index}": "1" for index in range(100)}},
            400,
            id="400-parameters",
        ),
    ],
)
def test_error_answers_carry_the_headers(
    client: TestClient, what: str, path: str, params: dict[str, str], status: int
) -> None:
    response = client.get(path, params=params)

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert_hardened(response.headers, what)


def test_a_method_not_allowed_carries_the_headers(client: TestClient) -> None:
    response = client.post("/products", params={"token": TOKEN})

    assert response.status_code == 405
    assert_hardened(response.headers, "405")


def test_too_many_failures_answer_429_with_the_headers(client: TestClient) -> None:
    for _ in range(10):
        client.get("/products", params={"token": "w" * 24})

    response = client.get("/products", params={"token": TOKEN})

    assert response.status_code == 429
    assert_hardened(response.headers, "429")


@pytest.fixture
def failing_client(
    database: Database, signing_key: SigningKey, tmp_path: Path
) -> Iterator[TestClient]:
    """A client of an app whose /health fails with a bug (a 500 answered by Starlette)."""
    state = build_state(database, signing_key, tmp_path, ServiceSettings())

    def broken() -> list[str]:
        raise RuntimeError("a bug")

    state.health_warnings = broken
    with TestClient(create_app(state), raise_server_exceptions=False) as test_client:
        yield test_client


def test_an_internal_error_carries_the_headers_and_no_detail(failing_client: TestClient) -> None:
    response = failing_client.get("/health", params={"token": TOKEN})

    assert response.status_code == 500
    assert "a bug" not in response.text
    assert_hardened(response.headers, "500")


def test_pages_keep_their_own_nonce_policy(client: TestClient) -> None:
    page = client.get("/", params={"token": TOKEN})

    policy = page.headers["content-security-policy"]
    assert "script-src 'nonce-" in policy
    assert page.headers.get_list("content-security-policy") == [policy]
    assert page.headers.get_list("cache-control") == ["no-store"]


def test_too_many_headers_answer_431_with_the_headers(client: TestClient) -> None:
    response = client.get("/version", headers={f"X-Filler-{index}": "f" for index in range(150)})

    assert response.status_code == 431
    assert response.json()["status"] == 431
    assert_hardened(response.headers, "431")
