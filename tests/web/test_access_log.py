"""The access log: one line per request, with the query's token hidden (SPEC 4.6)."""

from __future__ import annotations

import logging

import pytest
from starlette.testclient import TestClient

from tests.web.conftest import TOKEN

ACCESS_LOGGER = "license_service.web.access"


def access_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == ACCESS_LOGGER]


def test_each_request_is_logged_with_method_path_query_status_and_duration(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        client.get("/products", params={"metricName": "FREE", "token": TOKEN})
    [line] = access_lines(caplog)
    assert line.startswith("GET /products?metricName=FREE&token=*** 200 ")
    assert " ms client=testclient" in line


def test_no_token_reaches_any_log_line(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        client.get("/products", params={"token": TOKEN})
        client.get("/products", params={"TOKEN": "other-secret-value-1"})
        client.get("/health", headers={"Authorization": f"Bearer {TOKEN}"})
        client.get("/health", params={"token": "wrong-secret-value-2"})
    # The test client's own log (httpx) shows the URL it sent: only the service's lines count.
    logged = "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("license_service")
    )
    assert logged
    for secret in (TOKEN, "other-secret-value-1", "wrong-secret-value-2"):
        assert secret not in logged


def test_refusals_and_unknown_paths_are_logged_with_their_status(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        client.get("/status")
        client.delete("/products")
        client.get("/missing")
    statuses = [line.split(" ")[2] for line in access_lines(caplog)]
    assert statuses == ["401", "405", "404"]


def test_control_characters_in_the_path_cannot_forge_a_log_line(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        client.get("/x%0AGET%20/fake%20200")
    [line] = access_lines(caplog)
    assert "\n" not in line
    assert line.startswith("GET /x%0AGET%20/fake%20200 404 ")
