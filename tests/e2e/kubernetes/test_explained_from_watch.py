"""Today's breakdown on a live (fake) cluster (SPEC 9): the real ``serve`` keeps the cells the
collector counted from the list and the watch, and ``/usage_explained`` explains them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.kubernetes.cluster import NODE, PRODUCT_ID, Cluster, licensed_pod, usage_now
from tests.e2e.processes import ServiceProcess, eventually

pytestmark = pytest.mark.slow

WITHIN = 10.0


def explained(service: ServiceProcess, token: str) -> dict[str, Any]:
    answer = httpx.get(
        f"{service.url}/usage_explained",
        params={"token": token, "productId": PRODUCT_ID, "metricName": "VIRTUAL_PROCESSOR_CORE"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


def rows(document: dict[str, Any]) -> list[tuple[object, ...]]:
    return sorted(
        (c["namespace"], c["workloadKind"], c["workloadName"], c["node"], c["pods"],
         c["chargedMillicores"], c["cappedMillicores"])
        for c in document["contributions"]
    )  # fmt: skip


def test_a_listed_pod_then_a_watched_one_are_explained_by_the_sample_that_raised_the_peak(
    cluster: Cluster,
) -> None:
    cluster.api.create(licensed_pod("qm-a", cpu="2"))  # listed at start
    service = cluster.start()
    token = cluster.token()
    assert token is not None
    eventually(lambda: usage_now(service) == 2, within=WITHIN, what="the listed pod measured")

    first = explained(service, token)
    assert first["metricQuantity"] == 2
    assert first["totalMillicores"] == 2000
    assert rows(first) == [("mq", "Pod", "qm-a", NODE, 1, 2000, 2000)]

    cluster.api.create(licensed_pod("qm-b", cpu="3"))  # seen through the watch
    eventually(lambda: usage_now(service) == 5, within=WITHIN, what="the watched pod measured")
    eventually(
        lambda: explained(service, token)["metricQuantity"] == 5,
        within=WITHIN,
        what="the raised peak explained",
    )

    later = explained(service, token)
    assert later["sampleAt"] > first["sampleAt"]
    assert later["totalMillicores"] == 5000
    assert rows(later) == [
        ("mq", "Pod", "qm-a", NODE, 1, 2000, 2000),
        ("mq", "Pod", "qm-b", NODE, 1, 3000, 3000),
    ]
