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


def quantity(
    metric: str,
    sums: NodeSums,
    nodes: Mapping[str, NodeFacts],
    *,
    threads_per_core: int,
    default_pvu_per_core: int,
) -> int:
    """Return the usage of one product in ``metric``, rounded up once; pure.

    Per node the sum is capped at the node's limit (unknown nodes are not capped),
    then divided by ``threads_per_core``.
    """
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
