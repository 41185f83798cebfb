"""``/metrics`` (SPEC 3.9): usage gauges and the service's own figures, computed at scrape time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from license_service.metering.usage import Measurement
from license_service.store.database import Database
from license_service.web.app_state import AppState
from license_service.web.metrics.metrics_app import create_metrics_app
from tests.store.sample_builders import PVU, VPC, at, bundled, product, store
from tests.web.conftest import NOW, World, authorized, sampling_status

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def metrics(state: AppState) -> Iterator[TestClient]:
    with TestClient(create_metrics_app(state, CollectorRegistry())) as test_client:
        yield test_client


def scrape(metrics: TestClient) -> Samples:
    response = metrics.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def labels(**values: str) -> frozenset[tuple[str, str]]:
    return frozenset(values.items())


def test_usage_now_comes_from_the_latest_measurement(metrics: TestClient, world: World) -> None:
    world.sampler = sampling_status(
        last_measurement=Measurement(
            products=(product("p1", 4, name="Product One"),),
            bundled_products=(bundled("db2", 3, ratio="2:1", cloudpak_metric=PVU),),
        )
    )
    samples = scrape(metrics)
    assert (
        samples[
            (
                "product_license_usage",
                labels(
                    productId="p1",
                    productName="Product One",
                    metricId=VPC,
                    value="4",
                    date="2026-11-28",
                ),
            )
        ]
        == 4
    )
    assert (
        samples[
            (
                "product_license_usage",
                labels(
                    productId="db2",
                    productName="Product db2",
                    metricId=VPC,
                    value="3",
                    date="2026-11-28",
                    parentProductId="cp4d",
                    parentMetricId=PVU,
                ),
            )
        ]
        == 3
    )


def test_the_daily_high_watermark_is_todays_peak_from_the_store(
    metrics: TestClient, database: Database
) -> None:
    store(database, at("2026-11-27", "10:00"), product("p1", 9, name="Product One"))
    store(database, at("2026-11-28", "08:00"), product("p1", 5, name="Product One"))
    store(
        database, at("2026-11-28", "09:00"), product("p1", 3, name="Product One"), bundled("db2", 2)
    )
    samples = scrape(metrics)
    watermark = "ibm_licensing_usage_daily_high_watermark"
    assert (
        samples[(watermark, labels(productId="p1", productName="Product One", metricId=VPC))] == 5
    )
    assert (
        samples[
            (
                watermark,
                labels(
                    productId="db2",
                    productName="Product db2",
                    metricId=VPC,
                    parentProductId="cp4d",
                    parentMetricId=VPC,
                ),
            )
        ]
        == 2
    )


def test_sampler_figures_are_exposed(metrics: TestClient, world: World) -> None:
    world.sampler = sampling_status(
        samples_taken=40,
        samples_missed=2,
        ticks_failed=1,
        last_sample_at=NOW - timedelta(minutes=1),
    )
    samples = scrape(metrics)
    assert samples[("license_service_samples_taken_total", labels())] == 40
    assert samples[("license_service_samples_missed_total", labels())] == 2
    assert samples[("license_service_sampling_failures_total", labels())] == 1
    assert (
        samples[("license_service_last_sample_timestamp_seconds", labels())]
        == (NOW - timedelta(minutes=1)).timestamp()
    )


def test_requests_latency_and_authentication_failures_of_the_api_are_counted(
    client: TestClient, metrics: TestClient
) -> None:
    client.get("/products", params=authorized())
    client.get("/products")
    client.get("/products", params={"token": "wrong-wrong-wrong"})
    client.get("/no/such/path")
    samples = scrape(metrics)
    requests = "license_service_http_requests_total"
    assert samples[(requests, labels(path="/products", method="GET", status="200"))] == 1
    assert samples[(requests, labels(path="/products", method="GET", status="401"))] == 2
    assert samples[(requests, labels(path="other", method="GET", status="404"))] == 1
    failures = "license_service_authentication_failures_total"
    assert samples[(failures, labels(reason="missing"))] == 1
    assert samples[(failures, labels(reason="invalid"))] == 1
    assert (
        samples[("license_service_http_request_duration_seconds_count", labels(path="/products"))]
        == 3
    )


def test_no_label_holds_a_token(client: TestClient, metrics: TestClient) -> None:
    client.get("/products", params={"token": "secret-looking-token-123"})
    assert "secret-looking-token-123" not in metrics.get("/metrics").text


def test_extra_collectors_are_exposed(state: AppState) -> None:
    class KubernetesCalls:
        def collect(self) -> Iterator[Metric]:
            yield GaugeMetricFamily("license_service_kubernetes_watches", "watches", value=3)

    state.extra_collectors = (KubernetesCalls(),)
    with TestClient(create_metrics_app(state, CollectorRegistry())) as metrics:
        assert scrape(metrics)[("license_service_kubernetes_watches", labels())] == 3


def test_a_store_that_cannot_be_read_leaves_the_watermark_out_but_answers(
    metrics: TestClient, database: Database
) -> None:
    with database.begin() as connection:
        connection.exec_driver_sql("DROP TABLE product_daily_peaks")
    samples = scrape(metrics)
    assert not any(name == "ibm_licensing_usage_daily_high_watermark" for name, _ in samples)
    assert ("license_service_samples_taken_total", labels()) in samples


def test_other_paths_of_the_metrics_port_answer_404(metrics: TestClient) -> None:
    response = metrics.get("/products")
    assert response.status_code == 404
    assert response.json()["status"] == 404
