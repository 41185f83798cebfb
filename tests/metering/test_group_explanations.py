"""Chargeback groups explained (SPEC 8 and 9): a group's breakdown adds up to its own value."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from license_service.metering.chargeback_groups import GROUP_LABEL, namespace_groups
from license_service.metering.cluster_view import ClusterView, Controller, Namespace, Node, Pod
from license_service.metering.explanation_cells import ExplainedRow
from license_service.metering.measuring import measure_in_groups
from license_service.metering.settings import MeteringSettings
from license_service.metering.usage import Measurement
from license_service.metering.usage_explanations import (
    WHOLE_CLUSTER,
    Contribution,
    UsageExplanation,
    explain_in_groups,
    explain_usage,
)
from license_service.sampling.peak_explanations import explained_quantities
from tests.metering.cluster_builders import VPC, node, pod, product
from tests.metering.test_measuring_properties import metering_settings, nodes, pods

DEFAULTS = MeteringSettings()
P1 = ExplainedRow("", "", "p1", VPC, "")
WEB = Controller("ReplicaSet", "web-7d9f8c6b5", "7d9f8c6b5")


def labelled(name: str, group: str | None) -> Namespace:
    return Namespace(name=name, labels={GROUP_LABEL: group} if group is not None else {})


def in_namespace(name: str, namespace: str, limit: str, controller: Controller | None) -> Pod:
    return dataclasses.replace(
        pod(name, "small", product(), limit, namespace=namespace), controller=controller
    )


def two_groups_on_one_node() -> ClusterView:
    """8 cores charged 14000m: finance 6000m + 3000m, research 4000m, an unlabelled 1000m."""
    return ClusterView(
        pods=(
            in_namespace("web-7d9f8c6b5-a", "fin-web", "3", WEB),
            in_namespace("web-7d9f8c6b5-b", "fin-web", "3", WEB),
            in_namespace("batch", "fin-batch", "3", None),
            in_namespace("lab-0", "lab", "4", Controller("StatefulSet", "lab")),
            in_namespace("loose", "other", "1", None),
        ),
        nodes=(node("small", "8"),),
        namespaces=(
            labelled("fin-web", "finance"),
            labelled("fin-batch", "finance"),
            labelled("lab", "research"),
            labelled("other", None),
        ),
    )


def every_explanation(
    view: ClusterView, config: MeteringSettings = DEFAULTS
) -> tuple[dict[str, dict[ExplainedRow, UsageExplanation]], dict[str, Measurement]]:
    group_of = namespace_groups(view).group_of
    grouped = measure_in_groups(view, config, group_of)
    measured = {WHOLE_CLUSTER: grouped.cluster, **grouped.groups}
    wanted = dict.fromkeys(measured)
    return explain_in_groups(view.pods, view.nodes, config, group_of, wanted=wanted), measured


def test_two_groups_on_one_over_committed_node_each_add_up_to_their_own_capped_total() -> None:
    explained, measured = every_explanation(two_groups_on_one_node())

    finance = explained["finance"][P1]
    research = explained["research"][P1]
    cluster = explained[WHOLE_CLUSTER][P1]
    # finance charges 9000m on 8 cores: capped to 8000m, shared 6000:3000 (5333 + 2667).
    assert finance.contributions == (
        Contribution("fin-web", "Deployment", "web", "small", 2, 2, 6000, 5333, 70),
        Contribution("fin-batch", "Pod", "batch", "small", 1, 1, 3000, 2667, 70),
    )
    assert (finance.total_millicores, finance.metric_quantity) == (8000, 8)
    # research alone is under the cap: 4000m, 4 cores.
    assert research.contributions == (
        Contribution("lab", "StatefulSet", "lab", "small", 1, 1, 4000, 4000, 70),
    )
    assert (research.total_millicores, research.metric_quantity) == (4000, 4)
    # The cluster is capped once over every pod: 8 cores, less than the groups' 12.
    assert (cluster.total_millicores, cluster.metric_quantity) == (8000, 8)
    for group in ("finance", "research", WHOLE_CLUSTER):
        explanation = explained[group][P1]
        assert explanation.total_millicores == sum(
            c.capped_millicores for c in explanation.contributions
        )
        assert explanation.metric_quantity == explained_quantities(measured[group])[P1]
    # The unlabelled namespace counts for the cluster only.
    assert "other" not in {
        c.namespace for group in ("finance", "research") for c in explained[group][P1].contributions
    }
    assert "other" in {c.namespace for c in cluster.contributions}


def test_the_cluster_explanation_is_that_of_explain_usage_alone() -> None:
    view = two_groups_on_one_node()

    explained, _ = every_explanation(view)

    assert explained[WHOLE_CLUSTER] == explain_usage(view.pods, view.nodes, DEFAULTS)


def test_only_the_groups_and_rows_asked_for_are_explained() -> None:
    view = two_groups_on_one_node()
    group_of = namespace_groups(view).group_of

    explained = explain_in_groups(
        view.pods, view.nodes, DEFAULTS, group_of, wanted={"research": {P1}}
    )

    assert list(explained) == ["research"]
    assert explained["research"][P1].total_millicores == 4000


def test_pods_of_excluded_namespaces_are_explained_nowhere() -> None:
    view = two_groups_on_one_node()
    config = dataclasses.replace(DEFAULTS, excluded_namespaces=("fin-.*",))

    explained, measured = every_explanation(view, config)

    assert "finance" not in explained
    cluster = explained[WHOLE_CLUSTER][P1]
    assert {c.namespace for c in cluster.contributions} == {"lab", "other"}
    assert cluster.metric_quantity == explained_quantities(measured[WHOLE_CLUSTER])[P1] == 5


@settings(max_examples=60, deadline=None)
@given(
    cluster_pods=st.lists(pods(), min_size=1, max_size=14),
    cluster_nodes=nodes(),
    namespaces_of=st.lists(st.sampled_from(["a1", "a2", "b1", "none", "gone"]), min_size=14),
    config=metering_settings,
)
def test_every_group_s_explanation_closes_against_its_measured_quantity(
    cluster_pods: list[Pod],
    cluster_nodes: tuple[Node, ...],
    namespaces_of: list[str],
    config: MeteringSettings,
) -> None:
    placed = tuple(
        dataclasses.replace(pod_, namespace=namespace)
        for pod_, namespace in zip(cluster_pods, namespaces_of, strict=False)
    )
    view = ClusterView(
        pods=placed,
        nodes=cluster_nodes,
        namespaces=(
            labelled("a1", "team-a"),
            labelled("a2", "team-a"),
            labelled("b1", "team-b"),
            labelled("none", None),
            labelled("gone", "team-gone"),
        ),
    )
    settings_ = dataclasses.replace(config, excluded_namespaces=("go.*",))

    explained, measured = every_explanation(view, settings_)

    assert set(explained) == set(measured)
    for group, usage in measured.items():
        quantities = explained_quantities(usage)
        assert {key: e.metric_quantity for key, e in explained[group].items()} == quantities
        for explanation in explained[group].values():
            assert explanation.total_millicores == sum(
                c.capped_millicores for c in explanation.contributions
            )
            if group != WHOLE_CLUSTER:
                assert {c.namespace for c in explanation.contributions} <= {
                    ns for ns, name in namespace_groups(view).group_of.items() if name == group
                }
