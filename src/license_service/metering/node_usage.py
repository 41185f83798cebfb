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


@dataclass(frozen=True, slots=True)
class NodeCaps:
    """The CPU each capped node caps a row's sum at (nodes with capping and a stated CPU;
    the others are not capped), and the lowest of those caps (``None``: no node capped)."""

    by_node: Mapping[str, int]
    lowest: int | None

    def capped_sum(self, per_node: Mapping[str, int]) -> int:
        """The sum of ``per_node``, each node's value capped by its cap."""
        values = per_node.values()
        total = sum(values)
        lowest = self.lowest
        # Most rows of a group hold a few pods per node, far below any node's CPU: when no
        # value passes the lowest cap nothing is capped, and the sum ran in C alone.
        if lowest is None or max(values, default=0) <= lowest:
            return total
        by_node = self.by_node
        for node_name, millicores in per_node.items():
            if millicores > lowest:
                cap = by_node.get(node_name)
                if cap is not None and millicores > cap:
                    total -= millicores - cap
        return total


def node_caps(nodes: Mapping[str, NodeFacts]) -> NodeCaps:
    """The caps of ``nodes`` (``NodeCaps``), made once per measurement. Pure."""
    by_node = {
        name: facts.cpu_millicores
        for name, facts in nodes.items()
        if facts.capping and facts.cpu_millicores is not None
    }
    return NodeCaps(by_node, min(by_node.values(), default=None))


def add_sums(target: dict[str, int], source: Mapping[str, int]) -> None:
    """Add each node's value of ``source`` to ``target``'s.

    The nodes only one side has are copied by ``dict.update`` (in C); only the nodes both
    have are added here: the rows of groups merged into the cluster's share few nodes.
    """
    common = target.keys() & source.keys() if target else ()
    if not common:
        target.update(source)
        return
    both = {name: target[name] + source[name] for name in common}
    target.update(source)
    target.update(both)


def quantity(
    metric: str,
    sums: NodeSums,
    nodes: Mapping[str, NodeFacts],
    *,
    threads_per_core: int,
    default_pvu_per_core: int,
    add_to: dict[str, int] | None = None,
) -> int:
    """Return the usage of one product in ``metric``, rounded up once; pure but for ``add_to``.

    Per node the sum is capped at the node's limit (unknown nodes are not capped),
    then divided by ``threads_per_core``. ``add_to`` (the cluster's row of a chargeback
    group's row, SPEC 8): each node's sum is also added to it, unless the metric reads no
    millicores (free, MVS). ``NodeCaps.capped_sum`` is the same rule for a VPC row, through
    the caps of every node made once.
    """
    if metric == FREE:
        return 0
    if metric == MANAGED_VIRTUAL_SERVER:
        return len(sums.nodes_with_charged_containers)
    if add_to is not None:
        add_sums(add_to, sums.millicores)
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
    return -(-weighted // (1000 * threads_per_core))
