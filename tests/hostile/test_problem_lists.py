"""``/health`` and ``/status`` stay small whatever the cluster holds (docs/RELIABILITY.md: 64 KiB).

Before, every pod with broken annotations was listed with every value in full:
3,000 such pods gave a 4.9 MB ``/health`` and a 6.9 MB ``/status``, read by probes and
dashboards every few seconds. Now each section lists what fits its share of 64 KiB
(and at most 100 entries), long values are cut to 200 characters saying how long
they were, ``incompleteAnnotations.count`` keeps the total, and a warning says what
was left out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from license_service.metering.measuring import measure
from license_service.metering.settings import MeteringSettings
from license_service.metering.usage import Measurement
from license_service.signing.keys import SigningKey
from license_service.store.database import Database
from license_service.web.application import create_app
from license_service.web.probes.health_bounds import MAX_LISTED, MAX_TEXT_CHARS
from tests.hostile.conftest import TOKEN, ServiceSettings, build_state, sampler
from tests.metering import cluster_builders as builders
from tests.metering.cluster_builders import node, pod, view

BROKEN_PODS = 3_000
LONG = "x" * 1_000
KIB = 1024


def crowded_measurement() -> Measurement:
    """3,000 pods with broken annotations, 300 on unknown nodes, 300 unmeasured metrics."""
    broken = [
        pod(
            f"broken-{index}-{'n' * 200}",
            "n1",
            {
                "productID": f"p{index}",
                "productName": LONG,
                "productMetric": "VIRTUAL_PROCESSOR_CORE",
                "productCloudpakRatio": f"{LONG}:1",
                "productChargedContainers": f"({LONG}",
            },
            "1",
            namespace="ns-" + "s" * 60,
        )
        for index in range(BROKEN_PODS)
    ]
    lost = [
        pod(f"lost-{index}", f"gone-{index % 150}-{'g' * 200}", builders.product("lost", "L"), None)
        for index in range(300)
    ]
    unmeasured = [
        pod(
            f"odd-{index}",
            "n1",
            builders.product(f"odd-{index}", LONG, "METRIC_" + LONG[:500]),
            "1",
        )
        for index in range(300)
    ]
    return measure(view(*broken, *lost, *unmeasured, nodes=(node("n1", "8"),)), MeteringSettings())


@pytest.fixture(scope="module")
def crowded() -> Measurement:
    return crowded_measurement()


@pytest.fixture
def client(
    database: Database,
    signing_key: SigningKey,
    tmp_path: Path,
    service_settings: ServiceSettings,
    crowded: Measurement,
) -> Iterator[TestClient]:
    state = build_state(database, signing_key, tmp_path, service_settings)
    state.sampler_status = lambda: dataclasses.replace(sampler(), last_measurement=crowded)
    with TestClient(create_app(state)) as test_client:
        yield test_client


def test_health_stays_under_64_kib_and_counts_every_pod(
    client: TestClient, crowded: Measurement
) -> None:
    answer = client.get("/health", params={"token": TOKEN})
    health = answer.json()

    assert len(crowded.incomplete_annotations) == BROKEN_PODS
    assert len(answer.content) < 64 * KIB
    section = health["incompleteAnnotations"]
    assert section["count"] == BROKEN_PODS
    assert 0 < len(section["pods"]) <= MAX_LISTED
    assert len(health["unknownNodes"]) <= MAX_LISTED
    assert len(health["unmeasuredMetrics"]) <= MAX_LISTED
    shown = [
        text
        for pod_row in section["pods"]
        for text in (
            pod_row["namespace"],
            pod_row["name"],
            *(value for problem in pod_row["problems"] for value in problem.values()),
        )
    ]
    assert max(map(len, shown)) <= MAX_TEXT_CHARS + 30
    assert any("characters)" in text for text in shown)  # a cut value says it was cut
    warnings = "\n".join(health["warnings"])
    assert f"of the {BROKEN_PODS} pods" in warnings
    assert "unknownNodes lists" in warnings
    assert "unmeasuredMetrics lists" in warnings
    print(
        f"\n{BROKEN_PODS} broken pods, 150 unknown nodes, 300 unmeasured metrics: /health "
        f"{len(answer.content):,} bytes, {len(section['pods'])} pods listed"
    )


def test_the_status_page_stays_small_and_gives_the_total(client: TestClient) -> None:
    answer = client.get("/status", params={"token": TOKEN})

    assert answer.status_code == 200
    assert len(answer.content) < 128 * KIB
    assert f"({BROKEN_PODS:,})" in answer.text or f"({BROKEN_PODS})" in answer.text
    assert f"of the {BROKEN_PODS} pods" in answer.text
    print(f"\n/status with the same cluster: {len(answer.content):,} bytes")
