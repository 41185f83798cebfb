"""Service-account tokens on a live (fake) cluster: allowed, 403, 401, 503, and switched off.

Kubernetes decides: the fake answers TokenReview from the users the test declares and
SubjectAccessReview from its rules, as the reader ClusterRole of SPEC 4.5 would.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.e2e.kubernetes.cluster import FOLLOW_LIMIT, INVALID_TOKEN, Cluster, token_file
from tests.e2e.processes import ServiceProcess, eventually
from tests.kubernetes_fake.kubectl_runner import Kubectl

pytestmark = pytest.mark.slow

READER = "system:serviceaccount:ibm-common-services:ibm-licensing-default-reader"
READER_TOKEN = "reader-service-account-token"
OUTSIDER_TOKEN = "outsider-service-account-token"
LATE_TOKEN = "late-service-account-token"


def bearer_status(service: ServiceProcess, path: str, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.get(f"{service.url}{path}", headers=headers, timeout=10).status_code


def test_kubernetes_decides_who_may_read_and_the_service_fails_closed_without_it(
    cluster: Cluster, kubectl: Kubectl, tmp_path: Path
) -> None:
    api = cluster.api
    api.add_user(READER_TOKEN, READER, groups=("system:serviceaccounts",))
    api.add_user(OUTSIDER_TOKEN, "system:serviceaccount:default:outsider")
    api.add_user(LATE_TOKEN, READER, groups=("system:serviceaccounts",))
    for path in ("/products", "/health"):
        api.allow(READER, path)
    api.create(
        {
            "apiVersion": "operator.ibm.com/v1alpha1",
            "kind": "IBMLicensing",
            "metadata": {"name": "instance"},
            "spec": {"features": {"kubeRBACAuthEnabled": True}},
        }
    )
    service = cluster.start()

    assert bearer_status(service, "/products", READER_TOKEN) == 200
    assert bearer_status(service, "/snapshot", READER_TOKEN) == 403
    assert bearer_status(service, "/products", OUTSIDER_TOKEN) == 403
    assert bearer_status(service, "/products", "not-a-kubernetes-token") == 401

    # An invalid API token written into the Secret: URL tokens fail closed, accounts work.
    kubectl("apply", "--validate=false", "-f", token_file(tmp_path, INVALID_TOKEN))
    health = eventually(
        lambda: (
            (
                document := httpx.get(
                    f"{service.url}/health",
                    headers={"Authorization": f"Bearer {READER_TOKEN}"},
                    timeout=10,
                ).json()
            )["status"]
            == "DEGRADED"
            and document
        ),
        within=FOLLOW_LIMIT,
        what="/health saying the token is invalid",
    )
    assert any("is invalid: character ' '" in warning for warning in health["warnings"])

    api.faults.fail(None, status=503, path="/apis/authentication.k8s.io")
    assert bearer_status(service, "/products", LATE_TOKEN) == 503  # never allowed on error
    api.faults.clear()

    kubectl(
        "patch", "ibmlicensing", "instance", "--type", "merge",
        "-p", json.dumps({"spec": {"features": {"kubeRBACAuthEnabled": False}}}),
    )  # fmt: skip
    eventually(
        lambda: bearer_status(service, "/products", READER_TOKEN) == 401,
        within=FOLLOW_LIMIT,
        what="service-account tokens being turned off",
    )
