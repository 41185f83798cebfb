"""Sharing equal parts of projections changes no value and stays bounded."""

from __future__ import annotations

import json
from typing import Any

import pytest

from license_service.cluster.decoding import pod_decoder
from license_service.errors import InputError
from license_service.metering.cluster_view import Container, Pod


def pod(name: str, *, cpu: str = "1", product: str = "p") -> dict[str, Any]:
    """A pod as parsed JSON: every string fresh, as ``json.loads`` makes them."""
    document = {
        "metadata": {
            "name": name,
            "namespace": "team-a",
            "annotations": {"productID": product, "productName": "P"},
        },
        "spec": {
            "nodeName": "node-1",
            "containers": [{"name": "main", "resources": {"limits": {"cpu": cpu}}}],
        },
        "status": {"phase": "Running"},
    }
    return json.loads(json.dumps(document))  # type: ignore[no-any-return]


def test_a_shared_pod_equals_the_pod_it_replaces() -> None:
    decoded = pod_decoder().item(pod("web-1"))

    assert decoded == Pod(
        namespace="team-a",
        name="web-1",
        node_name="node-1",
        containers=(Container("main", "1"),),
        annotations={"productID": "p", "productName": "P"},
    )


def test_pods_of_one_workload_share_strings_containers_and_annotations() -> None:
    decoder = pod_decoder()

    first, second = decoder.item(pod("web-1")), decoder.item(pod("web-2"))

    assert first.namespace is second.namespace
    assert first.node_name is second.node_name
    assert first.containers is second.containers
    assert first.annotations is second.annotations


def test_different_values_are_not_merged() -> None:
    decoder = pod_decoder()

    small, large = decoder.item(pod("a", cpu="1")), decoder.item(pod("b", cpu="2", product="q"))

    assert small.containers != large.containers
    assert small.annotations != large.annotations


def test_the_pool_starts_over_when_full_instead_of_growing() -> None:
    decoder = pod_decoder(max_shared_parts=4)
    first = decoder.item(pod("a", cpu="1"))
    for index in range(10):
        decoder.item(pod(f"x{index}", cpu=f"{index + 2}", product=f"q{index}"))

    again = decoder.item(pod("b", cpu="1"))

    assert again.containers == first.containers
    assert again.containers is not first.containers  # forgotten, then shared anew


def test_parts_holding_numbers_are_not_shared() -> None:
    decoder = pod_decoder()
    with_number, with_boolean = pod("a"), pod("b")
    with_number["spec"]["containers"][0]["resources"]["limits"]["cpu"] = 1
    with_boolean["spec"]["containers"][0]["resources"]["limits"]["cpu"] = True
    first = decoder.item(with_number)

    # 1 == True in Python: a pool keyed by values must not hand "1" to a boolean.
    with pytest.raises(InputError) as refused:
        decoder.item(with_boolean)

    assert first.containers == (Container("main", "1"),)
    assert str(refused.value) == (
        "Pod team-a/b: spec.containers[0].resources.limits.cpu is the boolean true, not a string"
    )
