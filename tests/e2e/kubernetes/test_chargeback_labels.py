"""Chargeback groups on a live (fake) cluster (SPEC 8): turned on through the IBMLicensing
resource, and a namespace labelled with ``kubectl label`` moves its usage into the group
from the next sample."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.e2e.kubernetes.cluster import (
    FOLLOW_LIMIT,
    PRODUCT_ID,
    Cluster,
    licensed_pod,
    metric_values,
    usage_now,
)
from tests.e2e.processes import ServiceProcess, eventually
from tests.kubernetes_fake.kubectl_runner import Kubectl

pytestmark = pytest.mark.slow

WITHIN = 10.0


def group_products(service: ServiceProcess, token: str, group: str) -> httpx.Response:
    return httpx.get(
        f"{service.url}/products", params={"token": token, "groupName": group}, timeout=10
    )


def group_usage_now(service: ServiceProcess, group: str) -> float:
    key = (
        "product_license_usage_chargeback{groupName="
        f"{group},metricId=VIRTUAL_PROCESSOR_CORE,productId={PRODUCT_ID},"
        "productName=IBM MQ Advanced}"
    )
    return metric_values(service).get(key, 0.0)


def test_kubectl_label_moves_a_namespace_s_usage_into_its_group_at_the_next_sample(
    cluster: Cluster, kubectl: Kubectl
) -> None:
    cluster.api.create(licensed_pod("qm-a", cpu="2"))
    service = cluster.start()
    token = cluster.token()
    assert token is not None
    eventually(lambda: usage_now(service) == 2, within=WITHIN, what="the pod measured")

    # Chargeback off: groupName is refused, never answered with the whole cluster.
    refused = group_products(service, token, "team-mq")
    assert refused.status_code == 400
    assert "spec.chargebackEnabled: true" in refused.json()["message"]

    kubectl(
        "apply", "--validate=false", "-f", "-",
        stdin=json.dumps(
            {
                "apiVersion": "operator.ibm.com/v1alpha1",
                "kind": "IBMLicensing",
                "metadata": {"name": "instance"},
                "spec": {"chargebackEnabled": True},
            }
        ),
    )  # fmt: skip
    eventually(
        lambda: group_products(service, token, "team-mq").status_code == 200,
        within=FOLLOW_LIMIT,
        what="chargeback turned on through the resource",
    )
    # Unlabelled: the namespace is in no group.
    assert group_products(service, token, "team-mq").json() == []

    kubectl("label", "namespace", "mq", "ibm-chargeback-group=team-mq")
    eventually(
        lambda: group_usage_now(service, "team-mq") == 2,
        within=WITHIN,
        what="the labelled namespace's usage in its group",
    )
    rows = group_products(service, token, "team-mq").json()
    assert [(row["id"], row["metricQuantity"]) for row in rows] == [(PRODUCT_ID, 2)]
    groups = httpx.get(
        f"{service.url}/chargeback_groups", params={"token": token}, timeout=10
    ).json()
    assert groups == [{"groupName": "team-mq", "namespaces": ["mq"]}]
    # The cluster's own numbers are unchanged by the label.
    assert usage_now(service) == 2
