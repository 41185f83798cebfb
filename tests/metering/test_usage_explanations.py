"""Usage explained (SPEC 9): the breakdown behind a product's number adds up exactly."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from license_service.cluster.dumps import read_dumps
from license_service.cluster.simulated import DEMO_EXCLUDED_NAMESPACES, SimulatedCluster
from license_service.metering.cluster_view import ClusterView, Controller, Pod
from license_service.metering.explanation_cells import ExplainedRow
from license_service.metering.measuring import measure
from license_service.metering.quantities import parse_cpu_millicores
from license_service.metering.settings import MeteringSettings
from license_service.metering.usage_explanations import (
    Contribution,
    UsageExplanation,
    contribution_json,
    explain_usage,
)
from tests.metering.cluster_builders import MVS, PVU, VPC, bundled, node, pod, product
from tests.metering.test_measuring_properties import metering_settings, nodes, pods

DEFAULTS = MeteringSettings()
DUMP = "tests/fixtures/dumps/cluster.json"


def explained(
    cluster: ClusterView, config: MeteringSettings = DEFAULTS
) -> dict[ExplainedRow, UsageExplanation]:
    return explain_usage(cluster.pods, cluster.nodes, config)


def replica(
    name: str,
    node_name: str,
    annotations: dict[str, str],
    *limits: str | None,
    controller: Controller | None,
    namespace: str = "apps",
) -> Pod:
    return dataclasses.replace(
        pod(name, node_name, annotations, *limits, namespace=namespace), controller=controller
    )


def measured_value(cluster: ClusterView, row: ExplainedRow, config: MeteringSettings) -> int:
    measurement = measure(cluster, config)
    if row.cloudpak_id:
        (found,) = (
            b.measured_quantity
            for b in measurement.bundled_products
            if (b.cloudpak_id, b.cloudpak_metric, b.product_id, b.metric, str(b.conversion))
            == tuple(row)
        )
        return found
    (value,) = (
        p.quantity for p in measurement.products if (p.id, p.metric) == (row.product_id, row.metric)
    )
    return value


def test_an_over_committed_node_shares_its_cores_so_the_rows_add_up_to_the_total() -> None:
    web = Controller("ReplicaSet", "web-7d9f8c6b5", "7d9f8c6b5")
    db = Controller("StatefulSet", "db")
    cluster = ClusterView(
        pods=(
            replica("web-7d9f8c6b5-a", "small", product(), "3", controller=web),
            replica("web-7d9f8c6b5-b", "small", product(), "3", controller=web),
            replica("db-0", "small", product(), "2", "1", controller=db),
            replica("debug", "small", product(), "1", controller=None, namespace="ops"),
            replica("web-7d9f8c6b5-c", "big", product(), "3", controller=web),
        ),
        nodes=(node("small", "8"), node("big", "32")),
    )

    (explanation,) = explained(cluster).values()

    # small: 6000 + 3000 + 1000 = 10000 charged, capped at 8000 in proportion (4800, 2400, 800).
    assert explanation.contributions == (
        Contribution("apps", "Deployment", "web", "small", 2, 2, 6000, 4800, 70),
        Contribution("apps", "Deployment", "web", "big", 1, 1, 3000, 3000, 70),
        Contribution("apps", "StatefulSet", "db", "small", 1, 2, 3000, 2400, 70),
        Contribution("ops", "Pod", "debug", "small", 1, 1, 1000, 800, 70),
    )
    assert (
        explanation.total_millicores
        == 11_000
        == sum(c.capped_millicores for c in explanation.contributions)
    )
    assert explanation.metric_quantity == 11 == -(-explanation.total_millicores // 1000)
    assert measured_value(cluster, explanation.row, DEFAULTS) == 11


def test_largest_remainders_hand_out_the_millicores_left_over() -> None:
    # 1000 among 3 x 1000: 333 each, and the one left over goes to the first in order.
    cluster = ClusterView(
        pods=tuple(
            replica(f"p{index}", "n", product(), "1", controller=None, namespace=f"ns{index}")
            for index in range(3)
        ),
        nodes=(node("n", "1"),),
    )

    (explanation,) = explained(cluster).values()

    assert [(c.namespace, c.capped_millicores) for c in explanation.contributions] == [
        ("ns0", 334),
        ("ns1", 333),
        ("ns2", 333),
    ]
    assert explanation.total_millicores == 1000


def test_threads_per_core_divide_the_total_once_rounded_up() -> None:
    cluster = ClusterView(
        pods=(replica("a", "n", product(), "2500m", controller=None),),
        nodes=(node("n", "16"),),
    )

    (explanation,) = explained(cluster, MeteringSettings(threads_per_core=2)).values()

    assert (explanation.total_millicores, explanation.threads_per_core) == (2500, 2)
    assert explanation.metric_quantity == 2  # ceil(2500 / 1000 / 2)


def test_pvu_rows_carry_the_node_rating() -> None:
    pvu = product("db2", "Db2", PVU)
    cluster = ClusterView(
        pods=(
            replica("a", "rated", pvu, "2", controller=None),
            replica("b", "unrated", pvu, "1500m", controller=None),
        ),
        nodes=(node("rated", "8", pvu="100"), node("unrated", "8")),
    )

    (explanation,) = explained(cluster).values()

    assert [(c.node, c.capped_millicores, c.pvu_per_core) for c in explanation.contributions] == [
        ("rated", 2000, 100),
        ("unrated", 1500, 70),
    ]
    assert explanation.metric_quantity == 305 == -(-(2000 * 100 + 1500 * 70) // 1000)
    assert "pvuPerCore" in contribution_json(explanation.contributions[0], metric=PVU)
    assert "pvuPerCore" not in contribution_json(explanation.contributions[0], metric=VPC)


def test_mvs_counts_the_nodes_with_charged_containers() -> None:
    mq = product("mq", "MQ", MVS)
    qm = Controller("StatefulSet", "qm")
    cluster = ClusterView(
        pods=(
            replica("qm-0", "n1", mq, "1", controller=qm),
            replica("qm-1", "n2", mq, "1", controller=qm),
            replica("qm-2", "n2", mq, "1", controller=qm),
        ),
        nodes=(node("n1", "4"), node("n2", "4")),
    )

    (explanation,) = explained(cluster).values()

    assert explanation.metric_quantity == explanation.nodes == 2
    assert [(c.node, c.pods) for c in explanation.contributions] == [("n2", 2), ("n1", 1)]


def test_bundled_products_are_explained_by_their_cloud_pak_ratio() -> None:
    cluster = ClusterView(
        pods=(replica("a", "n", bundled("ace", "ACE", ratio="2:1"), "3", controller=None),),
        nodes=(node("n", "8"),),
    )

    (explanation,) = explained(cluster).values()

    assert explanation.row == ExplainedRow("cp1", VPC, "ace", VPC, "2:1")
    assert explanation.metric_quantity == 3 == measured_value(cluster, explanation.row, DEFAULTS)


def test_a_container_without_a_limit_counts_its_whole_node() -> None:
    cluster = ClusterView(
        pods=(
            replica("a", "n", product(), None, controller=None),
            replica("b", "n", product(), "4", controller=None, namespace="b"),
        ),
        nodes=(node("n", "4"),),
    )

    (explanation,) = explained(cluster).values()

    assert [(c.charged_millicores, c.capped_millicores) for c in explanation.contributions] == [
        (4000, 2000),
        (4000, 2000),
    ]


@settings(max_examples=300, deadline=None)
@given(nodes(), st.lists(pods(), max_size=12), metering_settings, st.data())
def test_shares_always_add_up_and_never_exceed_what_a_row_charged(
    cluster_nodes, cluster_pods, config, data
) -> None:
    namespaces = st.sampled_from(["a", "b"])
    controllers = st.sampled_from(
        [None, Controller("ReplicaSet", "w-abc", "abc"), Controller("StatefulSet", "s")]
    )
    varied = [
        dataclasses.replace(p, namespace=data.draw(namespaces), controller=data.draw(controllers))
        for p in cluster_pods
    ]
    cluster = ClusterView(pods=tuple(varied), nodes=cluster_nodes)
    caps = {n.name: parse_cpu_millicores(n.cpu_capacity or "0") for n in cluster_nodes}

    for row, explanation in explained(cluster, config).items():
        assert explanation.total_millicores == sum(
            c.capped_millicores for c in explanation.contributions
        )
        for contribution in explanation.contributions:
            assert 0 <= contribution.capped_millicores <= contribution.charged_millicores
        for name, cap in caps.items():
            on_node = [c for c in explanation.contributions if c.node == name]
            charged = sum(c.charged_millicores for c in on_node)
            assert sum(c.capped_millicores for c in on_node) == min(charged, cap)
        assert explanation.metric_quantity == measured_value(cluster, row, config)
        if row.metric == VPC:
            divisor = 1000 * config.threads_per_core
            assert explanation.metric_quantity == -(-explanation.total_millicores // divisor)


def test_the_simulated_cluster_is_explained_as_measure_measures_it() -> None:
    cluster = SimulatedCluster().view_at(datetime(2026, 11, 18, 14, tzinfo=UTC))

    explanations = explained(cluster)

    kinds = {c.workload_kind for e in explanations.values() for c in e.contributions}
    assert kinds == {"Deployment", "StatefulSet", "Pod"}
    assert any(
        c.capped_millicores < c.charged_millicores
        for e in explanations.values()
        for c in e.contributions
    ), "the bare pod without a limit over-commits its node"
    for row, explanation in explanations.items():
        assert explanation.metric_quantity == measured_value(cluster, row, DEFAULTS)


def test_excluded_namespaces_are_explained_as_measure_counts_them_nowhere() -> None:
    # The simulated cluster runs Liberty in the sandbox namespace the demo excludes: an
    # explanation counting it would be above the number /products reports.
    cluster = SimulatedCluster().view_at(datetime(2026, 11, 18, 14, tzinfo=UTC))
    config = dataclasses.replace(
        DEFAULTS, excluded_namespaces=tuple(DEMO_EXCLUDED_NAMESPACES.split(","))
    )

    explanations = explain_usage(cluster.pods, cluster.nodes, config)

    namespaces = {c.namespace for e in explanations.values() for c in e.contributions}
    assert "sandbox-dev" not in namespaces
    assert explanations
    for row, explanation in explanations.items():
        assert explanation.metric_quantity == measured_value(cluster, row, config)


def test_the_fixture_dump_is_explained_as_measure_measures_it() -> None:
    cluster = read_dumps([DUMP])

    explanations = explained(cluster)

    assert explanations
    for row, explanation in explanations.items():
        assert explanation.metric_quantity == measured_value(cluster, row, DEFAULTS)


def test_explaining_only_some_rows_gives_those_rows_as_explaining_all_does() -> None:
    cluster = SimulatedCluster().view_at(datetime(2026, 11, 18, 14, tzinfo=UTC))
    every = explained(cluster)
    wanted = {key for key in every if key.metric == VPC and not key.cloudpak_id}

    some = explain_usage(cluster.pods, cluster.nodes, DEFAULTS, only=wanted)

    assert some == {key: every[key] for key in wanted}
    assert len(every) > len(some) > 0


def test_two_replica_sets_of_one_deployment_are_one_row_per_node() -> None:
    # A rolling upgrade: the old and the new ReplicaSet both show as Deployment web.
    old = Controller("ReplicaSet", "web-aaa", "aaa")
    new = Controller("ReplicaSet", "web-bbb", "bbb")
    cluster = ClusterView(
        pods=(
            replica("web-aaa-1", "n1", product(), "1", controller=old),
            replica("web-bbb-1", "n1", product(), "2", controller=new),
            replica("web-bbb-2", "n2", product(), "2", controller=new),
        ),
        nodes=(node("n1", "8"), node("n2", "8")),
    )

    (explanation,) = explained(cluster).values()

    assert explanation.contributions == (
        Contribution("apps", "Deployment", "web", "n1", 2, 2, 3000, 3000, 70),
        Contribution("apps", "Deployment", "web", "n2", 1, 1, 2000, 2000, 70),
    )


@settings(max_examples=60, deadline=None)
@given(
    cluster_nodes=nodes(),
    cluster_pods=st.lists(pods(), min_size=1, max_size=8),
    replicas=st.lists(
        st.lists(st.sampled_from(["a", "b", "gone"]), min_size=1, max_size=4), min_size=8
    ),
    config=metering_settings,
    bare=st.booleans(),
)
def test_replicas_listed_one_after_another_are_explained_as_pods_of_their_own(
    cluster_nodes, cluster_pods, replicas, config, bare
) -> None:
    # Replicas share their annotations, containers and controller (the decoder pools
    # them) and come one after another: what is remembered of the pod before must give
    # what working each pod out afresh (its own copies) gives.
    controllers = [None if bare else Controller("StatefulSet", f"set-{n}") for n in range(8)]
    shared = tuple(
        dataclasses.replace(
            p, name=f"{p.name}-{index}", namespace=namespace, controller=controllers[position]
        )
        for position, (p, namespaces) in enumerate(zip(cluster_pods, replicas, strict=False))
        for index, namespace in enumerate(namespaces)
    )
    apart = tuple(
        dataclasses.replace(
            p,
            annotations=dict(p.annotations),
            containers=tuple(dataclasses.replace(c) for c in p.containers),
            controller=None if p.controller is None else dataclasses.replace(p.controller),
        )
        for p in shared
    )
    settings_ = dataclasses.replace(config, excluded_namespaces=("go.*",))

    def explained_of(pods_: tuple[Pod, ...]) -> object:
        return explain_usage(pods_, cluster_nodes, settings_)

    assert explained_of(shared) == explained_of(apart)
