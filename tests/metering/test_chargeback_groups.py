"""Chargeback groups measured as SPEC 8 says: section 2's rules restricted to a group's pods.

Worked example: one product on one over-committed node, in two labelled namespaces
(two groups) and one unlabelled namespace. Capping and the round-up apply per group,
so the sum over groups exceeds the cluster's value.
"""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from license_service.metering.chargeback_groups import (
    GROUP_LABEL,
    NamespaceGroups,
    measure_groups,
    namespace_groups,
)
from license_service.metering.cluster_view import ClusterView, Namespace, Node, Pod
from license_service.metering.measuring import measure
from license_service.metering.settings import MeteringSettings
from license_service.metering.usage_rows import ProductUsage
from tests.metering.cluster_builders import MVS, PVU, VPC, bundled, node, pod, product
from tests.metering.test_measuring_properties import metering_settings, nodes, pods

WAS = product("was", "WebSphere")


def labelled(name: str, group: str | None) -> Namespace:
    return Namespace(name=name, labels={GROUP_LABEL: group} if group is not None else {})


NAMESPACES = (
    labelled("finance-app", "finance"),
    labelled("research-app", "research"),
    labelled("tools", None),
)


def over_committed_cluster() -> ClusterView:
    """A 4-CPU node running 9.5 cores of limits: 3.5 finance, 3.5 research, 2.5 unlabelled."""
    return ClusterView(
        pods=(
            pod("f1", "n1", WAS, "2", namespace="finance-app"),
            pod("f2", "n1", WAS, "1500m", namespace="finance-app"),
            pod("r1", "n1", WAS, "3500m", namespace="research-app"),
            pod("t1", "n1", WAS, "2500m", namespace="tools"),
        ),
        nodes=(node("n1", "4"),),
        namespaces=NAMESPACES,
    )


def test_each_group_is_capped_and_rounded_on_its_own_so_groups_sum_above_the_cluster() -> None:
    grouped = measure_groups(over_committed_cluster(), MeteringSettings())

    # The cluster: 9.5 cores capped at the node's 4.
    assert grouped.cluster.products == (ProductUsage("WebSphere", "was", VPC, 4),)
    # Each group: 3.5 cores (under the cap of 4), rounded up once to 4.
    assert {group: usage.products for group, usage in grouped.groups.items()} == {
        "finance": (ProductUsage("WebSphere", "was", VPC, 4),),
        "research": (ProductUsage("WebSphere", "was", VPC, 4),),
    }
    # The unlabelled namespace is in no group, yet counts in the cluster.
    total = sum(usage.products[0].quantity for usage in grouped.groups.values())
    assert total == 8 > grouped.cluster.products[0].quantity


def test_the_cluster_measurement_is_that_of_measure_alone() -> None:
    cluster = over_committed_cluster()
    assert measure_groups(cluster, MeteringSettings()).cluster == measure(
        cluster, MeteringSettings()
    )


def test_a_group_is_measured_as_if_its_pods_were_the_whole_cluster() -> None:
    cluster = over_committed_cluster()
    grouped = measure_groups(cluster, MeteringSettings(threads_per_core=2))
    for group in ("finance", "research"):
        alone = ClusterView(
            pods=tuple(
                p
                for p in cluster.pods
                if namespace_groups(cluster).group_of.get(p.namespace) == group
            ),
            nodes=cluster.nodes,
        )
        assert (
            grouped.groups[group].products
            == measure(alone, MeteringSettings(threads_per_core=2)).products
        )


def test_pvu_mvs_bundled_products_and_services_are_measured_per_group() -> None:
    db2 = product("db2", "Db2", PVU)
    mq = product("mq", "MQ", MVS)
    ace = bundled("ace", "App Connect", ratio="2:1", serviceId="s1", serviceName="orders")
    cluster = ClusterView(
        pods=(
            pod("d1", "n1", db2, "3", namespace="finance-app"),
            pod("d2", "n2", db2, "1", namespace="research-app"),
            pod("m1", "n1", mq, "1", namespace="finance-app"),
            pod("m2", "n2", mq, "1", namespace="finance-app"),
            pod("a1", "n2", ace, "3", namespace="research-app"),
        ),
        nodes=(node("n1", "8", pvu="100"), node("n2", "8")),
        namespaces=NAMESPACES,
    )
    groups = measure_groups(cluster, MeteringSettings()).groups

    finance = {(row.id, row.quantity) for row in groups["finance"].products}
    assert finance == {("db2", 300), ("mq", 2)}
    research = groups["research"]
    assert {(row.id, row.quantity) for row in research.products} == {("db2", 70), ("cp1", 2)}
    assert [(row.product_id, row.measured_quantity) for row in research.bundled_products] == [
        ("ace", 3)
    ]
    assert [(row.service_id, row.value) for row in research.services] == [("s1", 3)]


def test_excluded_namespaces_are_counted_nowhere() -> None:
    settings = MeteringSettings(excluded_namespaces=("research-.*", "tools"))
    grouped = measure_groups(over_committed_cluster(), settings)

    assert grouped.cluster.products == (ProductUsage("WebSphere", "was", VPC, 4),)
    assert set(grouped.groups) == {"finance"}
    only_finance = ClusterView(
        pods=tuple(p for p in over_committed_cluster().pods if p.namespace == "finance-app"),
        nodes=(node("n1", "4"),),
    )
    assert measure(only_finance, MeteringSettings()).products == grouped.cluster.products


def test_an_exclusion_matches_the_whole_name_only() -> None:
    settings = MeteringSettings(excluded_namespaces=("finance",))
    grouped = measure_groups(over_committed_cluster(), settings)
    # "finance" does not match "finance-app": nothing is excluded.
    assert set(grouped.groups) == {"finance", "research"}


def test_the_reserved_group_default_puts_a_namespace_in_no_group_and_says_so() -> None:
    groups = NamespaceGroups.from_namespaces(
        (labelled("legacy", "default"), labelled("app", "team-a"), labelled("plain", None))
    )
    assert groups.group_of == {"app": "team-a"}
    assert groups.reserved == ("legacy",)
    (warning,) = groups.warnings()
    assert "legacy" in warning
    assert "ibm-chargeback-group=default" in warning


def test_a_label_value_kubernetes_would_refuse_is_no_group() -> None:
    # A dump file may hold what the API server never would: such a name is never stored.
    groups = NamespaceGroups.from_namespaces(
        (labelled("odd", "team\x00a"), labelled("long", "x" * 64), labelled("ok", "team_a.1"))
    )
    assert groups.group_of == {"ok": "team_a.1"}
    assert groups.invalid == ("long", "odd")
    (warning,) = groups.warnings()
    assert "long, odd" in warning


def test_groups_list_their_namespaces_sorted() -> None:
    groups = NamespaceGroups.from_namespaces(
        (labelled("b", "team"), labelled("a", "team"), labelled("c", "other"))
    )
    assert groups.namespaces_of() == {"other": ["c"], "team": ["a", "b"]}


@settings(max_examples=60, deadline=None)
@given(
    cluster_pods=st.lists(pods(), min_size=1, max_size=14),
    cluster_nodes=nodes(),
    namespaces_of=st.lists(st.sampled_from(["a1", "a2", "b1", "none", "gone"]), min_size=14),
    config=metering_settings,
)
def test_the_one_pass_equals_measuring_each_group_and_the_cluster_alone(
    cluster_pods: list[Pod],
    cluster_nodes: tuple[Node, ...],
    namespaces_of: list[str],
    config: MeteringSettings,
) -> None:
    placed = tuple(
        dataclasses.replace(pod_, namespace=namespace)
        for pod_, namespace in zip(cluster_pods, namespaces_of, strict=False)
    )
    namespaces = (
        labelled("a1", "team-a"),
        labelled("a2", "team-a"),
        labelled("b1", "team-b"),
        labelled("none", None),
        labelled("gone", "team-gone"),
    )
    settings_ = dataclasses.replace(config, excluded_namespaces=("go.*",))
    cluster = ClusterView(pods=placed, nodes=cluster_nodes, namespaces=namespaces)
    grouped = measure_groups(cluster, settings_)

    assert grouped.cluster == measure(cluster, settings_)
    assert "team-gone" not in grouped.groups
    for group, usage in grouped.groups.items():
        alone = ClusterView(
            pods=tuple(
                p
                for p in placed
                if p.namespace
                in {ns.name for ns in namespaces if ns.labels.get(GROUP_LABEL) == group}
            ),
            nodes=cluster_nodes,
        )
        expected = measure(alone, settings_)
        assert (usage.products, usage.bundled_products, usage.services) == (
            expected.products,
            expected.bundled_products,
            expected.services,
        )


@settings(max_examples=60, deadline=None)
@given(
    cluster_pods=st.lists(pods(), min_size=1, max_size=8),
    cluster_nodes=nodes(),
    replicas=st.lists(
        st.lists(st.sampled_from(["a1", "b1", "none", "gone"]), min_size=1, max_size=4),
        min_size=8,
    ),
    config=metering_settings,
)
def test_replicas_listed_one_after_another_count_as_pods_of_their_own(
    cluster_pods: list[Pod],
    cluster_nodes: tuple[Node, ...],
    replicas: list[list[str]],
    config: MeteringSettings,
) -> None:
    # Replicas share their annotations and containers (the decoder pools them) and come
    # one after another, in one namespace or across groups: the counter's memory of the
    # pod before must give what counting each pod afresh gives.
    shared = tuple(
        dataclasses.replace(pod_, name=f"{pod_.name}-{index}", namespace=namespace)
        for pod_, namespaces in zip(cluster_pods, replicas, strict=False)
        for index, namespace in enumerate(namespaces)
    )
    apart = tuple(
        dataclasses.replace(
            pod_,
            annotations=dict(pod_.annotations),
            containers=tuple(dataclasses.replace(c) for c in pod_.containers),
        )
        for pod_ in shared
    )
    namespaces = (
        labelled("a1", "team-a"),
        labelled("b1", "team-b"),
        labelled("none", None),
        labelled("gone", "team-gone"),
    )
    settings_ = dataclasses.replace(config, excluded_namespaces=("go.*",))

    def grouped(pods_: tuple[Pod, ...]) -> object:
        view = ClusterView(pods=pods_, nodes=cluster_nodes, namespaces=namespaces)
        return measure_groups(view, settings_)

    assert grouped(shared) == grouped(apart)
