"""IBM's metric families and the alerting figures on ``/metrics`` (SPEC 13): names and labels.

Each family is checked by name and exact label set; the whole exposition must parse with
prometheus_client's own parser and pass the real ``promtool check metrics``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from license_service.auth.authenticators import ApiTokenAuthenticator
from license_service.configuration.entitlement_documents import parse_entitlements
from license_service.metering.usage import Measurement, PodProblems
from license_service.tokens.file_source import TokenFile
from license_service.web.app_state import AppState
from license_service.web.metrics.metrics_app import create_metrics_app
from tests.prometheus_tools import promtool
from tests.store.sample_builders import PVU, VPC, bundled, product, service
from tests.web.conftest import NOW, World, sampling_status

USAGE_LABELS = {"productId", "productName", "metricId", "value", "date"}


@pytest.fixture
def metrics(state: AppState, world: World) -> Iterator[TestClient]:
    state.entitlements = lambda: parse_entitlements(
        f"""
- {{name: One, productId: p1, metricName: {VPC}, quantity: 4}}
- {{name: One more, productId: p1, metricName: {VPC}, quantity: 1.5, validFrom: 2026-11-01}}
- {{name: Expired, productId: p2, metricName: {VPC}, quantity: 9, validTo: 2026-11-27}}
""",
        source="test",
    )
    world.sampler = sampling_status(
        last_measurement=Measurement(
            products=(product("p1", 4, name="Product One"), product("cp4d", 2)),
            bundled_products=(bundled("db2", 3, ratio="2:1", cloudpak_metric=PVU),),
            services=(service("svc-1", 2, service_name="Ingest"),),
            incomplete_annotations=(PodProblems("ns", "pod-1", ()), PodProblems("ns", "pod-2", ())),
        )
    )
    with TestClient(create_metrics_app(state, CollectorRegistry())) as test_client:
        yield test_client


def exposition(metrics: TestClient) -> str:
    response = metrics.get("/metrics")
    assert response.status_code == 200
    return response.text


def samples_of(text: str, name: str) -> list[dict[str, str]]:
    return [
        {**sample.labels, "=": str(sample.value)}
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


def test_product_license_usage_carries_ibms_labels_with_value_and_date(
    metrics: TestClient,
) -> None:
    found = samples_of(exposition(metrics), "product_license_usage")
    assert {"productId": "p1", "productName": "Product One", "metricId": VPC, "value": "4",
            "date": "2026-11-28", "=": "4.0"} in found  # fmt: skip
    assert all(set(sample) >= USAGE_LABELS for sample in found)
    # A bundled product keeps the parent labels it had before SPEC 13.
    [db2] = [sample for sample in found if sample["productId"] == "db2"]
    assert set(db2) - {"="} == USAGE_LABELS | {"parentProductId", "parentMetricId"}


def test_product_license_usage_details_describes_bundled_products_with_their_ratio(
    metrics: TestClient,
) -> None:
    [db2] = samples_of(exposition(metrics), "product_license_usage_details")
    assert db2 == {
        "productId": "db2",
        "productName": "Product db2",
        "metricId": VPC,
        "value": "3",
        "date": "2026-11-28",
        "parentProductId": "cp4d",
        "parentMetricId": PVU,
        "productConversionRatio": "2:1",
        "=": "3.0",
    }


def test_cp4d_capability_describes_services_with_their_top_level_product(
    metrics: TestClient,
) -> None:
    [capability] = samples_of(exposition(metrics), "cp4d_capability")
    assert capability == {
        "productId": "svc-1",
        "productName": "Ingest",
        "metricId": VPC,
        "value": "2",
        "date": "2026-11-28",
        "topLevelProductId": "cp4d",
        "topLevelMetricId": VPC,
        "=": "2.0",
    }


def test_entitlement_quantity_is_todays_sum_by_product_and_metric(metrics: TestClient) -> None:
    found = samples_of(exposition(metrics), "license_service_entitlement_quantity")
    assert found == [{"productId": "p1", "metricId": VPC, "=": "5.5"}]


def test_the_alerting_figures_say_uncounted_pods_and_a_usable_token(metrics: TestClient) -> None:
    text = exposition(metrics)
    assert samples_of(text, "license_service_uncounted_pods") == [{"=": "2.0"}]
    assert samples_of(text, "license_service_api_token_usable") == [{"=": "1.0"}]
    assert samples_of(text, "license_service_entitlements_valid") == [{"=": "1.0"}]


def test_an_unusable_token_and_a_refused_entitlements_file_show_as_zero(
    state: AppState, world: World, tmp_path: Path
) -> None:
    bad = tmp_path / "bad-token"
    bad.write_text("a token with spaces in it\n")
    state.authenticator = ApiTokenAuthenticator(
        TokenFile(bad, generate_if_missing=False, grace_period=timedelta(0), clock=lambda: NOW),
        url_based_enabled=lambda: True,
    )
    state.entitlements_problem = lambda: "entitlements not applied: ..."
    with TestClient(create_metrics_app(state, CollectorRegistry())) as metrics:
        text = exposition(metrics)
    assert samples_of(text, "license_service_api_token_usable") == [{"=": "0.0"}]
    assert samples_of(text, "license_service_entitlements_valid") == [{"=": "0.0"}]


def test_the_watermark_keeps_its_labels(metrics: TestClient) -> None:
    text = exposition(metrics)
    assert "# TYPE ibm_licensing_usage_daily_high_watermark gauge" in text


# promtool's linter (exit 3) asks for snake_case label names; IBM's families and SPEC 13
# fix camelCase ones (productId...), so that one complaint, and only it, is expected.
CAMEL_CASE_COMPLAINT = "label names should be written in 'snake_case' not 'camelCase'"
LINT_PROBLEMS = 3


def test_promtool_parses_the_exposition_and_finds_only_the_spec_label_names(
    metrics: TestClient,
) -> None:
    checked = promtool("check", "metrics", stdin=exposition(metrics).encode("utf-8"))
    assert checked.returncode in (0, LINT_PROBLEMS), checked.stdout + checked.stderr
    complaints = {line for line in checked.stderr.splitlines() if line.strip()}
    assert {line.split(" ", 1)[1] for line in complaints} <= {CAMEL_CASE_COMPLAINT}
    assert {line.split(" ", 1)[0] for line in complaints} <= {
        "product_license_usage",
        "product_license_usage_details",
        "cp4d_capability",
        "ibm_licensing_usage_daily_high_watermark",
        "license_service_entitlement_quantity",
    }
