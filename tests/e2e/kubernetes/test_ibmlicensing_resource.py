"""The IBMLicensing resource edited with kubectl: URL tokens off and on live, bad edits refused."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.e2e.kubernetes.cluster import (
    FOLLOW_LIMIT,
    SEED_MANIFESTS,
    Cluster,
    licensed_pod,
    status_of,
    usage_now,
)
from tests.e2e.processes import eventually
from tests.kubernetes_fake.kubectl_runner import Kubectl
from tests.kubernetes_fake.manifests import ibm_licensing_manifest

pytestmark = pytest.mark.slow


def test_url_tokens_are_turned_off_and_back_on_through_the_resource(
    cluster: Cluster, kubectl: Kubectl
) -> None:
    service = cluster.start()
    token = cluster.token()
    assert status_of(service, "/products", token=token) == 200

    # The seed: add `features: auth: urlBasedEnabled: false` under spec.
    kubectl(
        "apply", "--validate=false", "-f", str(SEED_MANIFESTS / "ibmlicensing-url-tokens-off.yml")
    )
    eventually(
        lambda: status_of(service, "/products", token=token) == 401,
        within=FOLLOW_LIMIT,
        what="URL tokens being turned off",
    )
    refused = httpx.get(f"{service.url}/products", params={"token": token}, timeout=10).json()
    assert "service-account token" in refused["message"]

    # The seed: "to turn the token authentication back on, remove these lines".
    kubectl(
        "patch", "ibmlicensing", "instance", "--type", "json",
        "-p", json.dumps([{"op": "remove", "path": "/spec/features"}]),
    )  # fmt: skip
    eventually(
        lambda: status_of(service, "/products", token=token) == 200,
        within=FOLLOW_LIMIT,
        what="URL tokens being turned back on",
    )
    assert "spec.features.auth.urlBasedEnabled: false -> true" in service.log()

    kubectl(
        "patch", "ibmlicensing", "instance", "--type", "merge",
        "-p", json.dumps({"spec": {"features": {"auth": {"urlBasedEnabled": "maybe"}}}}),
    )  # fmt: skip
    warnings = eventually(
        lambda: (
            (
                found := [
                    warning
                    for warning in httpx.get(
                        f"{service.url}/health", params={"token": token}, timeout=10
                    ).json()["warnings"]
                    if "configuration not applied" in warning
                ]
            )
            and found
        ),
        within=FOLLOW_LIMIT,
        what="the invalid edit refused with a /health warning",
    )
    assert "spec.features.auth.urlBasedEnabled" in warnings[0]
    assert status_of(service, "/products", token=token) == 200
    assert "Configuration not applied" in service.log()


def test_hyper_threading_applies_to_the_next_sample_without_a_restart(
    cluster: Cluster, kubectl: Kubectl
) -> None:
    cluster.api.create(ibm_licensing_manifest())
    cluster.api.create(licensed_pod("qm-a", cpu="4"))
    service = cluster.start()
    eventually(lambda: usage_now(service) == 4, within=10, what="4 cores measured")

    kubectl(
        "patch", "ibmlicensing", "instance", "--type", "merge",
        "-p", json.dumps({"spec": {"features": {"hyperThreading": {"threadsPerCore": 2}}}}),
    )  # fmt: skip

    eventually(lambda: usage_now(service) == 2, within=10, what="2 threads counted as 1 core")
