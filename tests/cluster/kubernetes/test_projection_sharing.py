"""Sharing equal parts of projections changes no value and stays bounded."""

from __future__ import annotations

from license_service.cluster.kubernetes.projection_sharing import SharedValues
from license_service.metering.cluster_view import Container, Pod


def pod(name: str, *, cpu: str = "1", product: str = "p") -> Pod:
    """A pod built from fresh strings, as ``json.loads`` makes them."""
    return Pod(
        namespace="".join(["team", "-a"]),
        name=name,
        node_name="".join(["node", "-1"]),
        containers=(Container("".join(["ma", "in"]), "".join(cpu)),),
        annotations={"productID": "".join(product), "productName": "P"},
    )


def test_a_shared_pod_equals_the_pod_it_replaces() -> None:
    sharing = SharedValues()
    original = pod("web-1")

    assert sharing.pod(original) == original


def test_pods_of_one_workload_share_strings_containers_and_annotations() -> None:
    sharing = SharedValues()

    first, second = sharing.pod(pod("web-1")), sharing.pod(pod("web-2"))

    assert first.namespace is second.namespace
    assert first.node_name is second.node_name
    assert first.containers is second.containers
    assert first.annotations is second.annotations


def test_different_values_are_not_merged() -> None:
    sharing = SharedValues()

    small, large = sharing.pod(pod("a", cpu="1")), sharing.pod(pod("b", cpu="2", product="q"))

    assert small.containers != large.containers
    assert small.annotations != large.annotations


def test_the_pool_starts_over_when_full_instead_of_growing() -> None:
    sharing = SharedValues(max_entries=4)
    first = sharing.pod(pod("a", cpu="1"))
    for index in range(10):
        sharing.pod(pod(f"x{index}", cpu=f"{index + 2}", product=f"q{index}"))

    again = sharing.pod(pod("b", cpu="1"))

    assert again.containers == first.containers
    assert again.containers is not first.containers  # forgotten, then shared anew
