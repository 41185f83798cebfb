"""Invariants of the metering rules, checked on generated clusters (hypothesis)."""

from __future__ import annotations

import dataclasses
import random
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from license_service.metering.cluster_view import ClusterView, Container, Node, Pod
from license_service.metering.measuring import measure
from license_service.metering.quantities import parse_cpu_millicores
from license_service.metering.settings import MeteringSettings
from tests.metering.cluster_builders import format_millicores

METRICS = ("VIRTUAL_PROCESSOR_CORE", "PROCESSOR_VALUE_UNIT", "MANAGED_VIRTUAL_SERVER", "FREE")

node_names = st.sampled_from(["n0", "n1", "n2", "n3"])
millicores = st.integers(min_value=0, max_value=40_000)
limits = st.one_of(st.none(), millicores.map(format_millicores))


@st.composite
def nodes(draw: st.DrawFn) -> tuple[Node, ...]:
    return tuple(
        Node(
            name=f"n{index}",
            cpu_capacity=format_millicores(draw(st.integers(min_value=1000, max_value=64_000))),
            cpu_allocatable=None,
            pvu_per_core=draw(st.sampled_from([None, "70", "100", "120"])),
        )
        for index in range(4)
    )


@st.composite
def license_annotations(draw: st.DrawFn) -> dict[str, str]:
    product = draw(st.sampled_from(["a", "b"]))
    values = {
        "productID": product,
        "productName": f"Product {product}",
        "productMetric": draw(st.sampled_from(METRICS)),
    }
    if draw(st.booleans()):
        values["cloudpakId"] = "cp"
        values["cloudpakName"] = "Cloud Pak"
        values["productCloudpakRatio"] = draw(st.sampled_from(["1:1", "2:1", "1:3", "4:3"]))
    charged = draw(st.sampled_from([None, "All", "", "c0", "!c1", "c.*,!c2"]))
    if charged is not None:
        values["productChargedContainers"] = charged
    return values


@st.composite
def pods(draw: st.DrawFn) -> Pod:
    count = draw(st.integers(min_value=1, max_value=3))
    return Pod(
        namespace="ns",
        name=f"pod-{draw(st.uuids()).hex[:8]}",
        node_name=draw(node_names),
        containers=tuple(Container(f"c{index}", draw(limits)) for index in range(count)),
        annotations=draw(license_annotations()),
    )


metering_settings = st.builds(
    MeteringSettings,
    threads_per_core=st.sampled_from([1, 2, 4, 8]),
    node_cpu_capping=st.just(True),
)


def usage_by_key(cluster: ClusterView, config: MeteringSettings) -> dict[tuple[str, str], int]:
    result = measure(cluster, config)
    keyed = {(row.id, row.metric): row.quantity for row in result.products}
    keyed |= {
        (f"{row.cloudpak_id}/{row.product_id}/{row.conversion}", row.metric): row.measured_quantity
        for row in result.bundled_products
    }
    return keyed


@settings(max_examples=150)
@given(nodes(), st.lists(pods(), max_size=12), metering_settings)
def test_vpc_never_exceeds_the_cluster_cores_divided_by_threads(
    cluster_nodes: tuple[Node, ...], cluster_pods: list[Pod], config: MeteringSettings
) -> None:
    total_millicores = sum(parse_cpu_millicores(node.cpu_capacity or "0") for node in cluster_nodes)
    ceiling = -(-total_millicores // (1000 * config.threads_per_core))
    result = measure(ClusterView(pods=tuple(cluster_pods), nodes=cluster_nodes), config)
    for row in result.products:
        if row.metric == "VIRTUAL_PROCESSOR_CORE" and not row.id.startswith("cp"):
            assert row.quantity <= ceiling
    for bundled in result.bundled_products:
        if bundled.metric == "VIRTUAL_PROCESSOR_CORE":
            assert bundled.measured_quantity <= ceiling


@settings(max_examples=150)
@given(nodes(), st.lists(pods(), max_size=12), pods(), metering_settings)
def test_adding_a_charged_container_never_lowers_usage(
    cluster_nodes: tuple[Node, ...],
    cluster_pods: list[Pod],
    extra: Pod,
    config: MeteringSettings,
) -> None:
    before = usage_by_key(ClusterView(pods=tuple(cluster_pods), nodes=cluster_nodes), config)
    after = usage_by_key(ClusterView(pods=(*cluster_pods, extra), nodes=cluster_nodes), config)
    for key, quantity in before.items():
        assert after[key] >= quantity


@settings(max_examples=150)
@given(nodes(), st.lists(pods(), max_size=12), metering_settings, st.randoms())
def test_result_does_not_depend_on_the_order_of_pods_or_nodes(
    cluster_nodes: tuple[Node, ...],
    cluster_pods: list[Pod],
    config: MeteringSettings,
    shuffler: random.Random,
) -> None:
    shuffled_pods = list(cluster_pods)
    shuffler.shuffle(shuffled_pods)
    shuffled_nodes = list(cluster_nodes)
    shuffler.shuffle(shuffled_nodes)
    original = measure(ClusterView(pods=tuple(cluster_pods), nodes=cluster_nodes), config)
    reordered = measure(ClusterView(pods=tuple(shuffled_pods), nodes=tuple(shuffled_nodes)), config)
    assert reordered == original


@settings(max_examples=100)
@given(nodes(), st.lists(pods(), max_size=12))
def test_more_threads_per_core_never_raises_usage(
    cluster_nodes: tuple[Node, ...], cluster_pods: list[Pod]
) -> None:
    cluster = ClusterView(pods=tuple(cluster_pods), nodes=cluster_nodes)
    previous = usage_by_key(cluster, MeteringSettings(threads_per_core=1))
    for threads in (2, 4, 8):
        current = usage_by_key(cluster, MeteringSettings(threads_per_core=threads))
        assert all(current[key] <= previous[key] for key in previous)
        previous = current


@settings(max_examples=100)
@given(nodes(), st.lists(pods(), max_size=12))
def test_cloud_pak_is_the_rounded_up_sum_of_its_converted_bundled_products(
    cluster_nodes: tuple[Node, ...], cluster_pods: list[Pod]
) -> None:
    result = measure(ClusterView(pods=tuple(cluster_pods), nodes=cluster_nodes), MeteringSettings())
    for row in result.products:
        if row.id != "cp" or row.metric == "FREE":
            continue
        converted = sum(
            (
                b.converted_quantity
                for b in result.bundled_products
                if b.cloudpak_metric == row.metric
            ),
            start=Fraction(0),
        )
        assert row.quantity == -(-converted.numerator // converted.denominator)


@settings(max_examples=50)
@given(nodes(), st.lists(pods(), max_size=8))
def test_pods_that_are_not_running_change_nothing(
    cluster_nodes: tuple[Node, ...], cluster_pods: list[Pod]
) -> None:
    stopped = [dataclasses.replace(p, running=False) for p in cluster_pods]
    assert (
        measure(ClusterView(pods=tuple(stopped), nodes=cluster_nodes), MeteringSettings()).products
        == ()
    )
