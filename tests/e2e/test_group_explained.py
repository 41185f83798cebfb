"""The real `license-service serve` with chargeback on explains each group's number (SPEC 8
and 9): ``/usage_explained?groupName=`` adds up to the group's ``/products`` value."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from license_service.metering.chargeback_groups import GROUP_LABEL
from tests.e2e.conftest import Start
from tests.e2e.processes import DUMP, ServiceProcess, eventually

MQ = "c661609261d5471fb4ff8970a36bccea"
ACE = "2ec59ac2d0a54a0b8c5e52b4e9e7ab1f"
VPC = "VIRTUAL_PROCESSOR_CORE"
GROUPS = {"mq": "messaging", "cp4i": "integration"}
CHARGEBACK_ON = """apiVersion: operator.ibm.com/v1alpha1
kind: IBMLicensing
metadata:
  name: instance
spec:
  chargebackEnabled: true
"""


def labelled_dump(tmp_path: Path) -> Path:
    """The fixture dump with namespace mq in group messaging and cp4i in integration."""
    document = json.loads(DUMP.read_text())
    for item in document["items"]:
        name = item["metadata"]["name"]
        if item["kind"] == "Namespace" and name in GROUPS:
            item["metadata"]["labels"][GROUP_LABEL] = GROUPS[name]
    path = tmp_path / "labelled.json"
    path.write_text(json.dumps(document))
    return path


def get(service: ServiceProcess, path: str, **params: str) -> httpx.Response:
    return httpx.get(f"{service.url}{path}", params={"token": service.token, **params}, timeout=10)


def test_each_group_s_breakdown_adds_up_to_its_products_value(start: Start, tmp_path: Path) -> None:
    config = tmp_path / "ibmlicensing.yaml"
    config.write_text(CHARGEBACK_ON)
    service = start(dumps=[labelled_dump(tmp_path)], extra=["--config", str(config)])
    eventually(
        lambda: get(service, "/products", groupName="messaging").json(),
        within=10,
        what="a first sample of the group in /products",
    )

    for group, product_id, path, id_key, value_key in (
        ("messaging", MQ, "/products", "id", "metricQuantity"),
        ("integration", ACE, "/bundled_products", "productId", "metricMeasuredQuantity"),
    ):
        response = get(
            service, "/usage_explained", productId=product_id, metricName=VPC, groupName=group
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["totalMillicores"] == sum(c["cappedMillicores"] for c in body["contributions"])
        assert {c["namespace"] for c in body["contributions"]} == {
            namespace for namespace, name in GROUPS.items() if name == group
        }
        (value,) = (
            row[value_key]
            for row in get(service, path, groupName=group).json()
            if row[id_key] == product_id
        )
        assert body["metricQuantity"] == value
    # MQ: worker-c (2 cores) is over-committed by the messaging group alone: 3500m -> 2000m.
    mq = get(
        service, "/usage_explained", productId=MQ, metricName=VPC, groupName="messaging"
    ).json()
    on_c = [c for c in mq["contributions"] if c["node"] == "worker-c"]
    assert [(c["chargedMillicores"], c["cappedMillicores"]) for c in on_c] == [(3500, 2000)]
    assert mq["metricQuantity"] == -(-mq["totalMillicores"] // 1000)

    # A group with nothing kept: 404; the cluster's breakdown is still the cluster's.
    nobody = get(service, "/usage_explained", productId=MQ, metricName=VPC, groupName="nobody")
    assert nobody.status_code == 404
    cluster = get(service, "/usage_explained", productId=MQ, metricName=VPC)
    assert cluster.status_code == 200
    assert cluster.json()["metricQuantity"] == mq["metricQuantity"]  # MQ runs in mq alone
