"""The cells of usage explanations kept pod by pod (``metering.explanation_cells``).

What the collector keeps event by event must be what counting the pods it holds gives
at once, whatever the order of additions and removals; a snapshot must never change
after it is taken; and explanations from kept cells must equal explanations made
afresh, for the cluster and for each chargeback group.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from license_service.metering.cluster_view import Controller, Pod
from license_service.metering.explanation_cells import (
    CELL_SHIFT,
    LOW_BITS,
    CellIndex,
    Cells,
    replay_log,
)
from license_service.metering.settings import MeteringSettings
from license_service.metering.usage_explanations import WHOLE_CLUSTER, explain_in_groups
from tests.metering.cluster_builders import node, pod, product
from tests.metering.test_measuring_properties import metering_settings, nodes, pods

_CONTROLLERS = (None, Controller("ReplicaSet", "w-abc", "abc"), Controller("StatefulSet", "s"))


def by_names(cells: Cells) -> dict[tuple[object, ...], tuple[int, int]]:
    """The cells keyed by names, not by table indexes (which depend on arrival order)."""
    named = {}
    for key, row in cells.rows.items():
        for cell, count in row.counts.items():
            namespace, workload = cells.workloads[cell >> CELL_SHIFT]
            at = (key, row.product_name, namespace, workload, cells.nodes[cell & LOW_BITS])
            named[at] = (count, row.loads[cell])
    return named


@st.composite
def varied_pods(draw: st.DrawFn) -> list[Pod]:
    listed = draw(st.lists(pods(), max_size=10))
    return [
        dataclasses.replace(
            p,
            namespace=draw(st.sampled_from(["a", "b", "c"])),
            controller=draw(st.sampled_from(_CONTROLLERS)),
            running=draw(st.booleans()) or draw(st.booleans()),
        )
        for p in listed
    ]


@settings(max_examples=200, deadline=None)
@given(varied_pods(), st.data())
def test_cells_kept_event_by_event_equal_the_pods_counted_at_once(
    all_pods: list[Pod], data: st.DataObject
) -> None:
    index = CellIndex()
    held: dict[str, Pod] = {}
    # Pods arrive, change (a new projection under the same name) and leave in any order.
    for step in data.draw(st.lists(st.tuples(st.sampled_from(all_pods or [None]), st.booleans()))):
        chosen, leave = step
        if chosen is None:
            continue
        before = held.get(chosen.name)
        if before is not None:
            index.remove(before)
            del held[chosen.name]
        if not leave:
            changed = dataclasses.replace(chosen, running=data.draw(st.booleans()))
            index.add(changed)
            held[chosen.name] = changed
    assert by_names(index.cells()) == by_names(CellIndex.of(held.values()).cells())
    assert not index.wants_rebuild


def test_a_snapshot_does_not_change_when_pods_come_and_go_after_it() -> None:
    one = pod("one", "n1", product("p1"), "2", namespace="a")
    two = pod("two", "n1", product("p1"), "1", namespace="b")
    index = CellIndex.of([one])
    before = index.cells()
    kept = by_names(before)
    index.add(two)
    index.remove(one)
    after = index.cells()

    assert by_names(before) == kept
    assert by_names(after) != kept
    assert {at[2] for at in by_names(after)} == {"b"}


def test_a_removal_of_what_was_never_added_asks_for_a_rebuild() -> None:
    index = CellIndex.of([pod("one", "n1", product("p1"), "2")])
    index.remove(pod("other", "n2", product("p1"), "2"))

    assert index.wants_rebuild


def test_names_no_pod_uses_any_more_ask_for_a_rebuild_once_they_outnumber_the_rest() -> None:
    index = CellIndex()
    for number in range(5_000):
        one = pod(f"bare-{number}", f"n{number}", product("p1"), "1")
        index.add(one)
        index.remove(one)

    assert index.wants_rebuild
    assert index.cells().rows == {}


def test_the_product_name_shown_is_the_smallest_among_the_pods_held_now() -> None:
    zed = pod("zed", "n1", product("p1", "Zed"), "1")
    alpha = pod("alpha", "n1", product("p1", "Alpha"), "1")
    index = CellIndex.of([zed, alpha])
    assert [row.product_name for row in index.cells().rows.values()] == ["Alpha"]

    index.remove(alpha)
    assert [row.product_name for row in index.cells().rows.values()] == ["Zed"]


@settings(max_examples=100, deadline=None)
@given(nodes(), varied_pods(), metering_settings, st.data())
def test_explanations_from_kept_cells_equal_explanations_made_afresh(
    cluster_nodes, cluster_pods, config, data
) -> None:
    gone = (
        [
            dataclasses.replace(p, name=f"{p.name}-gone")
            for p in data.draw(st.lists(st.sampled_from(cluster_pods), max_size=4))
            if cluster_pods
        ]
        if cluster_pods
        else []
    )
    # Pods that came and went before the sample leave nothing behind.
    index = CellIndex()
    for one in gone:
        index.add(one)
    index.add_all(cluster_pods)
    for one in gone:
        index.remove(one)
    config = dataclasses.replace(
        config, excluded_namespaces=data.draw(st.sampled_from([(), ("c",), ("a|b",)]))
    )
    group_of = {"a": "team-a", "b": "team-b"}
    wanted = {WHOLE_CLUSTER: None, "team-a": None, "team-b": None}
    fresh = explain_in_groups(cluster_pods, cluster_nodes, config, group_of, wanted=wanted)
    kept = explain_in_groups(
        (), cluster_nodes, config, group_of, wanted=wanted, cells=index.cells()
    )
    assert kept == fresh


def test_a_node_unknown_to_the_view_is_neither_capped_nor_given_its_cores() -> None:
    # A container without a limit on a node the view does not hold counts 0 (SPEC 2.4).
    cluster_pods = [pod("p", "ghost", product("p1"), None, "1")]
    explained = explain_in_groups(
        cluster_pods, [node("n1", "4")], MeteringSettings(), {}, wanted={"": None}
    )[WHOLE_CLUSTER]
    (explanation,) = explained.values()
    assert explanation.total_millicores == 1000


def test_the_log_replayed_to_a_snapshot_s_length_gives_its_names_and_nodes() -> None:
    index = CellIndex.of([pod("one", "n1", product("p1"), "2", namespace="a")], [node("n1", "4")])
    before = index.cells()
    index.set_node(node("n1", "8"))
    index.set_node(node("n1", "8"))  # unchanged: not logged again
    index.add(pod("two", "n2", product("p1"), "1", namespace="b"))
    index.set_node(node("n2", "2"))
    index.remove_node("n1")
    after = index.cells()

    then = replay_log(before.log[: before.log_length])
    now = replay_log(after.log[: after.log_length])
    assert (then.workloads, then.nodes, then.node_states) == (
        list(before.workloads[: before.workload_count]),
        ["n1"],
        [node("n1", "4")],
    )
    assert now.workloads == list(after.workloads[: after.workload_count])
    assert now.nodes == ["n1", "n2"]
    assert now.node_states == [node("n2", "2")]
    assert after.log_length == before.log_length + 5


def test_an_entry_no_index_writes_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log entry"):
        replay_log([["w", "ns", "Deployment"]])


@settings(max_examples=100, deadline=None)
@given(varied_pods(), st.data())
def test_a_row_s_counts_and_loads_hold_their_keys_in_one_order(
    all_pods: list[Pod], data: st.DataObject
) -> None:
    # Stores encode the two as lists side by side (store.explanation_cells).
    index = CellIndex.of(all_pods)
    for gone in data.draw(st.lists(st.sampled_from(all_pods or [None]), max_size=5, unique_by=id)):
        if gone is not None:
            index.remove(gone)
            index.cells()  # a snapshot: the next change copies the row's dicts
    for row in index.cells().rows.values():
        assert list(row.counts) == list(row.loads)
