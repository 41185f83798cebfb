"""Turning per-node CPU sums into license units (SPEC 2.5): capping, hyper-threading, rounding."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from license_service.metering.usage import (
    FREE,
    MANAGED_VIRTUAL_SERVER,
    PROCESSOR_VALUE_UNIT,
    VIRTUAL_PROCESSOR_CORE,
)


@dataclass(frozen=True, slots=True)
class NodeFacts:
    """What the rules need of a node: its CPU (capacity or allocatable), capping, PVU rating.

    ``cpu_millicores`` is ``None`` when the node does not state its CPU.
    """

    cpu_millicores: int | None
    capping: bool
    pvu_per_core: int


@dataclass(slots=True)
class NodeSums:
    """Accumulated CPU of one product (or bundled product, or service), node by node."""

    millicores: dict[str, int] = field(default_factory=dict)
    nodes_with_charged_containers: set[str] = field(default_factory=set)

    def add(self, node_name: str, millicores: int, *, charged_containers: int) -> None:
        """Add ``millicores`` of charged containers running on ``node_name``."""
        self.millicores[node_name] = self.millicores.get(node_name, 0) + millicores
        if charged_containers:
            self.nodes_with_charged_containers.add(node_name)


def is_measurable(metric: str) -> bool:
    """Return whether ``metric`` can be measured from pod resources."""
    return metric in (VIRTUAL_PROCESSOR_CORE, PROCESSOR_VALUE_UNIT, MANAGED_VIRTUAL_SERVER, FREE)


def node_caps(nodes: Mapping[str, NodeFacts]) -> dict[str, int]:
    """The CPU each capped node caps a product's sum at (nodes with capping and a stated
    CPU); the others are not capped. Pure."""
    return {
        name: facts.cpu_millicores
        for name, facts in nodes.items()
        if facts.capping and facts.cpu_millicores is not None
    }


def quantity(
    metric: str,
    sums: NodeSums,
    nodes: Mapping[str, NodeFacts],
    *,
    threads_per_core: int,
    default_pvu_per_core: int,
    add_to: dict[str, int] | None = None,
    caps: Mapping[str, int] | None = None,
) -> int:
    """Return the usage of one product in ``metric``, rounded up once; pure but for ``add_to``.

    Per node the sum is capped at the node's limit (unknown nodes are not capped),
    then divided by ``threads_per_core``. ``add_to`` (a chargeback group's row, SPEC 8):
    each node's sum is also added to it in the same pass (the cluster's row of the group).
    ``caps`` (``node_caps(nodes)``, made once per measurement) spares a VPC row the
    look-up of each node's facts: rows are measured by the thousand with groups.
    """
    if caps is not None and metric == VIRTUAL_PROCESSOR_CORE:
        return -(-_capped_sum(sums.millicores, caps, add_to) // (1000 * threads_per_core))
    if add_to is not None:
        return _quantity_adding(
            metric,
            sums,
            nodes,
            add_to=add_to,
            threads_per_core=threads_per_core,
            default_pvu_per_core=default_pvu_per_core,
        )
    if metric == FREE:
        return 0
    if metric == MANAGED_VIRTUAL_SERVER:
        return len(sums.nodes_with_charged_containers)
    per_core = metric == PROCESSOR_VALUE_UNIT
    facts_of = nodes.get
    weighted = 0
    # One pass over every node the product runs on: kept lean, it runs for every row.
    for node_name, millicores in sums.millicores.items():
        facts = facts_of(node_name)
        if facts is None:
            weighted += millicores * default_pvu_per_core if per_core else millicores
            continue
        cap = facts.cpu_millicores
        capped = cap if facts.capping and cap is not None and millicores > cap else millicores
        weighted += capped * facts.pvu_per_core if per_core else capped
    divisor = 1000 * threads_per_core
    return -(-weighted // divisor)


def _quantity_adding(
    metric: str,
    sums: NodeSums,
    nodes: Mapping[str, NodeFacts],
    *,
    add_to: dict[str, int],
    threads_per_core: int,
    default_pvu_per_core: int,
) -> int:
    """``quantity``, adding each node's sum to ``add_to`` in the same pass over the nodes.

    The loop is ``quantity``'s, repeated with the addition inside: a group's rows are many
    and small, and one pass instead of two is what keeps groups cheap (SPEC 8).
    """
    per_node = sums.millicores
    add_get = add_to.get
    if metric in (FREE, MANAGED_VIRTUAL_SERVER):
        for node_name, millicores in per_node.items():
            add_to[node_name] = add_get(node_name, 0) + millicores
        return 0 if metric == FREE else len(sums.nodes_with_charged_containers)
    per_core = metric == PROCESSOR_VALUE_UNIT
    facts_of = nodes.get
    weighted = 0
    for node_name, millicores in per_node.items():
        add_to[node_name] = add_get(node_name, 0) + millicores
        facts = facts_of(node_name)
        if facts is None:
            weighted += millicores * default_pvu_per_core if per_core else millicores
            continue
        cap = facts.cpu_millicores
        capped = cap if facts.capping and cap is not None and millicores > cap else millicores
        weighted += capped * facts.pvu_per_core if per_core else capped
    divisor = 1000 * threads_per_core
    return -(-weighted // divisor)


def _capped_sum(
    per_node: Mapping[str, int], caps: Mapping[str, int], add_to: dict[str, int] | None
) -> int:
    """The sum of ``per_node`` capped per node by ``caps``; each node's sum also added to
    ``add_to`` when given (one pass)."""
    if add_to is not None:
        add_get = add_to.get
        for node_name, millicores in per_node.items():
            add_to[node_name] = add_get(node_name, 0) + millicores
    # Each node's sum, or its cap when lower (a node without a cap is its own default):
    # map, min and sum run in C, this is summed for every row of every group.
    values = per_node.values()
    return sum(map(min, values, map(caps.get, per_node, values)))
