"""`serve` measuring a live cluster: usage follows pods through the API, through outages too.

The real ``license-service serve --kubeconfig`` process watches the fake API server with the
real client. Recovery is judged on what is stored: the day's peak equals the highest usage
that really ran (a pod counted twice would raise it), and no sampling instant was missed.
"""

from __future__ import annotations

import httpx
import pytest
from kubernetes import client

from license_service.runtime.paths import DataDir
from tests.e2e.kubernetes.cluster import (
    NAMESPACE,
    PRODUCT_ID,
    Cluster,
    licensed_pod,
    metric_values,
    usage_now,
)
from tests.e2e.processes import ServiceProcess, eventually
from tests.faults.kubernetes_service import SKIPPED, read_sampling
from tests.kubernetes_fake.client_setup import api_client

pytestmark = pytest.mark.slow

WITHIN = 10.0  # a change is in a sample within a second or two; leave room for a busy machine


def day_peak(service: ServiceProcess, token: str) -> float:
    rows = httpx.get(f"{service.url}/products", params={"token": token}, timeout=10).json()
    return sum(row["metricQuantity"] for row in rows if row["id"] == PRODUCT_ID)


def usage_becomes(service: ServiceProcess, expected: float, what: str) -> None:
    eventually(lambda: usage_now(service) == expected, within=WITHIN, what=what)


def test_usage_follows_pods_created_changed_and_deleted_through_the_api(cluster: Cluster) -> None:
    service = cluster.start()
    token = cluster.token()
    assert token is not None
    with api_client(cluster.api.url) as kube:
        core = client.CoreV1Api(kube)
        core.create_namespaced_pod("mq", licensed_pod("qm-a", cpu="2"))
        core.create_namespaced_pod("mq", licensed_pod("qm-b", cpu="1"))
        usage_becomes(service, 3, "two pods of 2 + 1 cores measured")

        core.patch_namespaced_pod_status("qm-a", "mq", {"status": {"phase": "Succeeded"}})
        usage_becomes(service, 1, "the finished pod no longer counted")
        core.delete_namespaced_pod("qm-b", "mq")
        usage_becomes(service, 0, "the deleted pod no longer counted")

    assert day_peak(service, token) == 3
    health = httpx.get(f"{service.url}/health", params={"token": token}, timeout=10).json()
    assert health["collector"]["source"] == "kubernetes"
    assert health["collector"]["synced"] is True
    assert f"namespace {NAMESPACE}" in service.stdout()


def test_a_dropped_watch_a_410_and_an_api_server_restart_neither_double_count_nor_lose_samples(
    cluster: Cluster,
) -> None:
    api = cluster.api
    service = cluster.start()
    token = cluster.token()
    assert token is not None
    api.create(licensed_pod("qm-a", cpu="2"))
    usage_becomes(service, 2, "the first pod measured")

    api.drop_watches()  # connections cut mid-stream
    api.create(licensed_pod("qm-b", cpu="1"))
    usage_becomes(service, 3, "the pod created after the drop measured once")

    api.compact()  # every open watch ends with a 410 ERROR event: the collector lists again
    api.create(licensed_pod("qm-c", cpu="1"))
    usage_becomes(service, 4, "the pod created after the 410 measured once")

    api.stop()  # the API server goes away; meanwhile qm-a is deleted
    api.delete("pods", "qm-a", namespace="mq")
    api.restart(keep_state=True)  # back with a compacted history: resuming answers 410
    usage_becomes(service, 2, "the state after the restart")

    assert day_peak(service, token) == 4  # 2 + 1 + 1, never more: nothing counted twice
    figures = eventually(
        lambda: (values := _figures(service))["relists"] >= 2 and values,
        within=WITHIN,
        what="the re-lists counted",
    )
    # At a 1-second interval on a loaded machine the sampler may fall a whole interval
    # behind and record the instant it skipped, saying so; the API's faults lose none.
    missed = read_sampling(DataDir(service.data_dir).database_url).missed
    assert [(instant, reason) for instant, reason in missed if SKIPPED not in reason] == []
    assert figures["taken"] >= 4


def _figures(service: ServiceProcess) -> dict[str, float]:
    values = metric_values(service)
    return {
        "relists": values.get("license_service_kubernetes_relists_total{resource=pods}", 0.0),
        "missed": values["license_service_samples_missed_total{}"],
        "taken": values["license_service_samples_taken_total{}"],
    }
