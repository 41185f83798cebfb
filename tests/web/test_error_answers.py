"""Error answers: JSON body, 400 for every bad parameter, 404, 405 with Allow, 503 (SPEC 3)."""

from __future__ import annotations

import dataclasses
from typing import NoReturn

import pytest
from starlette.testclient import TestClient

from license_service.metering.cluster_view import ClusterId
from license_service.store.database import Database
from license_service.web.app_state import AppState
from license_service.web.application import create_app
from tests.web.conftest import authorized


def assert_error(response_json: object, status: int, error: str) -> str:
    """Check the error body's shape; return its message."""
    assert isinstance(response_json, dict)
    assert set(response_json) == {"status", "error", "message"}
    assert (response_json["status"], response_json["error"]) == (status, error)
    message = response_json["message"]
    assert isinstance(message, str)
    return message


@pytest.mark.parametrize("path", ["/products", "/bundled_products", "/services", "/snapshot"])
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"dateFrom": "2026-11-01"}, "dateFrom is given without", id="one-alone"),
        pytest.param(
            {"startDate": "2026-11-01"}, "startDate is given without", id="one-alone-other-spelling"
        ),
        pytest.param(
            {"dateFrom": "2026-11-1", "dateTo": "2026-11-05"},
            "dateFrom is not a date",
            id="malformed",
        ),
        pytest.param(
            {"dateFrom": "2026-11-05", "dateTo": "2026-11-01"},
            "is after dateTo",
            id="from-after-to",
        ),
        pytest.param(
            {"dateFrom": "2026-11-01", "dateTo": "2026-12-01"},
            "is after today",
            id="to-after-today",
        ),
        pytest.param(
            {"dateFrom": "2024-01-01", "dateTo": "2026-11-01"},
            "more than the 731 allowed",
            id="too-long",
        ),
        pytest.param(
            {"dateFrom": "2026-11-01", "startDate": "2026-11-02", "dateTo": "2026-11-05"},
            "disagree",
            id="spellings-disagree",
        ),
    ],
)
def test_a_bad_period_answers_400_saying_what_was_wrong(
    client: TestClient, path: str, params: dict[str, str], expected: str
) -> None:
    response = client.get(path, params=authorized(params))
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert expected in assert_error(response.json(), 400, "Bad Request")


def test_an_unknown_format_answers_400(client: TestClient) -> None:
    response = client.get("/products", params=authorized({"format": "xml"}))
    assert response.status_code == 400
    assert "use format=csv" in assert_error(response.json(), 400, "Bad Request")


def test_a_bad_period_without_a_token_is_refused_as_unauthenticated_first(
    client: TestClient,
) -> None:
    response = client.get("/products", params={"dateFrom": "x"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        "/products",
        "/bundled_products",
        "/services",
        "/health",
        "/status",
        "/snapshot",
        "/",
        "/version",
        "/livez",
        "/readyz",
        "/openapi.json",
    ],
)
def test_other_methods_answer_405_with_allow(client: TestClient, path: str) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        response = client.request(method, path, params=authorized())
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, HEAD"
        message = assert_error(response.json(), 405, "Method Not Allowed")
        assert f"method {method} is not allowed on {path}: use GET" in message


def test_an_unknown_path_answers_404_as_json(client: TestClient) -> None:
    response = client.get("/nothing-here", params=authorized())
    assert response.status_code == 404
    message = assert_error(response.json(), 404, "Not Found")
    # The path is never echoed (it may hold a token): the message says where to look.
    assert "nothing-here" not in message
    assert "there is no endpoint at this path" in message
    assert "/openapi.json" in message


def test_a_database_that_cannot_be_read_answers_503(client: TestClient, database: Database) -> None:
    with database.begin() as connection:
        connection.exec_driver_sql("DROP TABLE product_daily_peaks")
    response = client.get("/products", params=authorized())
    assert response.status_code == 503
    message = assert_error(response.json(), 503, "Service Unavailable")
    assert "product_daily_peaks" in message
    assert "retry" in message


class Broken:
    """An ``Authenticator`` with a bug: it raises."""

    async def authenticate(self, credentials: object, *, path: str, client: str) -> NoReturn:
        raise RuntimeError(f"internal detail {path} {client}")

    def problem(self) -> str | None:
        return None


def test_an_unexpected_error_answers_500_without_internals(state: AppState) -> None:
    app = create_app(dataclasses.replace(state, authenticator=Broken()))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/products")
    assert response.status_code == 500
    message = assert_error(response.json(), 500, "Internal Server Error")
    assert "internal detail" not in message
    assert "see the service log" in message


def test_an_error_of_ours_answers_500_with_its_message(state: AppState) -> None:
    unfit = dataclasses.replace(state, cluster_id=ClusterId("bad id/with slash"))
    with TestClient(create_app(unfit)) as client:
        response = client.get("/snapshot", params=authorized())
    assert response.status_code == 500
    assert "cannot be part of snapshot file names" in assert_error(
        response.json(), 500, "Internal Server Error"
    )
