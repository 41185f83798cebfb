"""The ConfigMap ``license-service-entitlements`` followed live (SPEC 13), with the real client.

The watch hands each version of the key ``entitlements.yaml`` to a
``FollowedEntitlements``: a valid document applies, an invalid one is refused (the
previous entitlements stay, the refusal says which item and field), a deleted ConfigMap
means no entitlements, and another ConfigMap of the namespace is never read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

import pytest
from kubernetes import client

from license_service.cluster.kubernetes.counters import CollectorCounters
from license_service.entitlement_sources.followed import FollowedEntitlements
from license_service.secrets.entitlements_configmap import EntitlementsConfigMapWatch
from tests.cluster.kubernetes.polling import eventually
from tests.cluster.kubernetes.watched_objects import FAST_OPTIONS
from tests.kubernetes_fake.server import FakeApiServer

NAMESPACE = "ibm-common-services"
VPC = "VIRTUAL_PROCESSOR_CORE"


def configmap(text: str, *, name: str = "license-service-entitlements") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "data": {"entitlements.yaml": text},
    }


def bought(quantity: str) -> str:
    return f"- {{name: MQ, productId: mq, metricName: {VPC}, quantity: {quantity}}}\n"


@pytest.fixture
def followed(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> Iterator[FollowedEntitlements]:
    fake_api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    entitlements = FollowedEntitlements(clock=lambda: datetime.now(UTC))
    watch = EntitlementsConfigMapWatch(
        kube_client,
        namespace=NAMESPACE,
        on_text=lambda text, source: entitlements.receive(text, source=source),
        counters=CollectorCounters(),
        options=FAST_OPTIONS,
        clock=lambda: datetime.now(UTC),
    )
    watch.start()
    assert watch.wait_listed(5)
    yield entitlements
    watch.stop()


def quantities(entitlements: FollowedEntitlements) -> list[Fraction]:
    return [item.quantity for item in entitlements.current()]


def test_without_the_configmap_there_are_no_entitlements(followed: FollowedEntitlements) -> None:
    assert len(followed.current()) == 0
    assert followed.problem() is None


def test_the_configmap_is_followed_live_and_a_bad_edit_keeps_the_previous_entitlements(
    fake_api: FakeApiServer, kube_client: client.ApiClient, followed: FollowedEntitlements
) -> None:
    fake_api.create(configmap(bought("8")))
    eventually(lambda: quantities(followed) == [8], what="the entitlements of the ConfigMap")
    core = client.CoreV1Api(kube_client)
    core.replace_namespaced_config_map(
        "license-service-entitlements", NAMESPACE, configmap(bought("-2"))
    )
    problem = eventually(followed.problem, what="the refusal of the bad edit")
    assert "entitlements[0].quantity '-2' is not a positive number" in problem
    assert "ConfigMap ibm-common-services/license-service-entitlements" in problem
    assert quantities(followed) == [8]
    core.replace_namespaced_config_map(
        "license-service-entitlements", NAMESPACE, configmap(bought("12.5"))
    )
    eventually(lambda: quantities(followed) == [Fraction(25, 2)], what="the fixed ConfigMap")
    assert followed.problem() is None
    fake_api.delete("configmaps", "license-service-entitlements", namespace=NAMESPACE)
    eventually(lambda: len(followed.current()) == 0, what="no entitlements once deleted")


def test_another_configmap_of_the_namespace_is_not_read(
    fake_api: FakeApiServer, followed: FollowedEntitlements
) -> None:
    fake_api.create(configmap(bought("5"), name="something-else"))
    fake_api.create(configmap(bought("6")))
    eventually(lambda: quantities(followed) == [6], what="the entitlements ConfigMap")
    asked = [request for request in fake_api.requests if "configmaps" in request.path]
    assert asked
    assert {request.query.get("fieldSelector") for request in asked} == {
        "metadata.name=license-service-entitlements"
    }
