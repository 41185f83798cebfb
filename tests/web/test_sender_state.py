"""The sender's state in the API (SPEC 11): the ``sender`` section of /health (documented in
OpenAPI), the Reporter line of /status, and the three metric families; never the token."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from license_service.reporting.sender import SenderStatus
from license_service.web.app_state import AppState
from license_service.web.application import create_app
from license_service.web.metrics.metrics_app import create_metrics_app
from tests.store.sample_builders import at
from tests.web.conftest import authorized
from tests.web.test_openapi import validator

REFUSED = SenderStatus(
    reporter_url="https://reporter.example.com",
    certificates_verified=True,
    last_push_at=at("2026-11-28", "09:00"),
    acknowledged_through=date(2026, 11, 27),
    last_error="the Reporter answered 409: signed by another key",
    last_error_at=at("2026-11-28", "10:00"),
    refused=True,
    push_failures=3,
)


@pytest.fixture
def sender_client(state: AppState) -> Any:
    with TestClient(create_app(dataclasses.replace(state, sender_status=lambda: REFUSED))) as c:
        yield c


def test_health_has_the_sender_section_and_a_refusal_as_a_warning(
    sender_client: TestClient,
) -> None:
    health = sender_client.get("/health", params=authorized()).json()
    assert health["sender"] == {
        "reporterURL": "https://reporter.example.com",
        "certificatesVerified": True,
        "lastPushAt": "2026-11-28T09:00:00Z",
        "acknowledgedThrough": "2026-11-27",
        "lastError": "the Reporter answered 409: signed by another key",
        "lastErrorAt": "2026-11-28T10:00:00Z",
        "pushFailures": 3,
    }
    assert any("configuration problem" in warning for warning in health["warnings"])
    document = sender_client.get("/openapi.json").json()
    validator(document, "/components/schemas/Health").validate(health)


def test_health_has_no_sender_section_without_a_reporter(client: TestClient) -> None:
    assert "sender" not in client.get("/health", params=authorized()).json()


def test_the_status_page_shows_where_it_pushes_and_the_last_error(
    sender_client: TestClient,
) -> None:
    page = sender_client.get("/status", params=authorized()).text
    assert "https://reporter.example.com" in page
    assert "acknowledged through 2026-11-27" in page
    assert "signed by another key" in page


def test_the_metrics_show_the_last_push_the_acknowledged_day_and_the_failures(
    state: AppState,
) -> None:
    app = create_metrics_app(
        dataclasses.replace(state, sender_status=lambda: REFUSED), CollectorRegistry()
    )
    with TestClient(app) as metrics:
        text = metrics.get("/metrics").text
    samples = {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("license_service_reporter_")
    }
    assert samples == {
        "license_service_reporter_last_push_timestamp_seconds": at(
            "2026-11-28", "09:00"
        ).timestamp(),
        "license_service_reporter_acknowledged_day": at("2026-11-27").timestamp(),
        "license_service_reporter_push_failures_total": 3.0,
    }


def test_no_reporter_metrics_without_a_reporter(state: AppState) -> None:
    app = create_metrics_app(
        dataclasses.replace(state, sender_status=SenderStatus), CollectorRegistry()
    )
    with TestClient(app) as metrics:
        assert "license_service_reporter_" not in metrics.get("/metrics").text


def test_a_reporters_message_is_escaped_on_the_status_page(state: AppState) -> None:
    hostile = dataclasses.replace(
        REFUSED, last_error="the Reporter answered 400: <script>x()</script>"
    )
    app = create_app(dataclasses.replace(state, sender_status=lambda: hostile))
    with TestClient(app) as client:
        page = client.get("/status", params=authorized()).text
    assert "<script>x()" not in page
    assert "&lt;script&gt;x()" in page
