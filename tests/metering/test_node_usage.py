"""Per-node sums into license units (SPEC 2.5): the shortcuts equal the rules written out."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from license_service.metering.node_usage import (
    NodeFacts,
    NodeSums,
    add_sums,
    node_caps,
    quantity,
)
from license_service.metering.usage import PROCESSOR_VALUE_UNIT, VIRTUAL_PROCESSOR_CORE

_NAMES = st.sampled_from([f"node-{n}" for n in range(8)])
_FACTS = st.builds(
    NodeFacts,
    cpu_millicores=st.none() | st.integers(min_value=0, max_value=8_000),
    capping=st.booleans(),
    pvu_per_core=st.integers(min_value=1, max_value=120),
)
_SUMS = st.dictionaries(_NAMES, st.integers(min_value=0, max_value=20_000), max_size=8)


def _capped_written_out(per_node: dict[str, int], nodes: dict[str, NodeFacts]) -> int:
    total = 0
    for name, millicores in per_node.items():
        facts = nodes.get(name)
        cap = facts.cpu_millicores if facts is not None and facts.capping else None
        total += millicores if cap is None else min(millicores, cap)
    return total


@given(st.dictionaries(_NAMES, _FACTS, max_size=8), _SUMS)
@example({"node-0": NodeFacts(4_000, True, 70)}, {"node-0": 4_001})
@example({"node-0": NodeFacts(4_000, True, 70)}, {"node-0": 4_000})
@example(
    {"node-0": NodeFacts(4_000, True, 70), "node-1": NodeFacts(2_000, False, 70)},
    {"node-0": 3_000, "node-1": 5_000, "node-2": 9_000},
)
def test_capped_sum_caps_each_capped_node_and_no_other(
    nodes: dict[str, NodeFacts], per_node: dict[str, int]
) -> None:
    assert node_caps(nodes).capped_sum(per_node) == _capped_written_out(per_node, nodes)


@given(st.dictionaries(_NAMES, _FACTS, max_size=8), _SUMS, st.sampled_from([1, 2, 4]))
def test_vpc_through_the_caps_equals_vpc_through_each_nodes_facts(
    nodes: dict[str, NodeFacts], per_node: dict[str, int], threads: int
) -> None:
    sums = NodeSums(dict(per_node), set())
    with_caps = -(-node_caps(nodes).capped_sum(per_node) // (1000 * threads))
    assert with_caps == quantity(
        VIRTUAL_PROCESSOR_CORE, sums, nodes, threads_per_core=threads, default_pvu_per_core=70
    )
    assert with_caps == -(-_capped_written_out(per_node, nodes) // (1000 * threads))


@given(_SUMS, _SUMS)
def test_add_sums_adds_node_by_node(target: dict[str, int], source: dict[str, int]) -> None:
    expected = {name: target.get(name, 0) + source.get(name, 0) for name in target | source}
    before = dict(source)
    add_sums(target, source)
    assert target == expected
    assert source == before


@given(st.dictionaries(_NAMES, _FACTS, max_size=8), _SUMS, _SUMS)
def test_a_row_measured_into_another_adds_its_sums_and_keeps_its_quantity(
    nodes: dict[str, NodeFacts], per_node: dict[str, int], already: dict[str, int]
) -> None:
    for metric in (VIRTUAL_PROCESSOR_CORE, PROCESSOR_VALUE_UNIT):
        into = dict(already)
        sums = NodeSums(dict(per_node), set())
        alone = quantity(metric, sums, nodes, threads_per_core=1, default_pvu_per_core=70)
        adding = quantity(
            metric,
            sums,
            nodes,
            threads_per_core=1,
            default_pvu_per_core=70,
            add_to=into,
        )
        assert adding == alone
        assert into == {n: already.get(n, 0) + per_node.get(n, 0) for n in already | per_node}
