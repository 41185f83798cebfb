"""Usage explained (SPEC 9): where each product's number comes from, row by row.

``explain_usage(pods, nodes, settings)`` is a pure function over any set of pods and
nodes (the whole cluster, or one chargeback group's pods): per product, and per
bundled product, one ``Contribution`` per (namespace, workload, node) with the pods and
charged containers counted, the charged millicores and the millicores left after the
node's cap. When a node's charged millicores exceed its CPU, the capped value is shared
among that node's rows in proportion to what they charged (``largest_remainders``), so
the rows add up exactly to the capped node value, and ``total_millicores`` (their
sum) gives ``metric_quantity`` exactly as ``measure`` computes it: the same node facts,
the same charged containers, the same ``node_usage.quantity``.

The pods are first counted into cells (``explanation_cells``: per row, workload and
node), kept pod by pod by the collector or counted at once; ``explain_cells`` turns
cells into explanations with the sample's node facts, chargeback groups and settings,
at the sample or later from the stored cells (``CellContext``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Final, NamedTuple

from license_service.formats.csv_lines import Cell
from license_service.metering.cluster_view import Node, Pod
from license_service.metering.explanation_cells import (
    CELL_SHIFT,
    LOAD_BITS,
    LOAD_SHIFT,
    LOW_BITS,
    CellIndex,
    Cells,
    ExplainedRow,
    RowCells,
)
from license_service.metering.largest_remainders import largest_remainder_shares

# Shared with measure, so that both read nodes alike.
from license_service.metering.measuring import _node_facts
from license_service.metering.namespace_scope import excluder
from license_service.metering.node_usage import NodeFacts, NodeSums, is_measurable, quantity
from license_service.metering.quantities import MillicoreCache
from license_service.metering.settings import MeteringSettings
from license_service.metering.usage import MANAGED_VIRTUAL_SERVER, PROCESSOR_VALUE_UNIT
from license_service.metering.workloads import Workload

WHOLE_CLUSTER: Final = ""
"""The ``group_name`` of an explanation of the whole cluster (not of a chargeback group)."""


class Contribution(NamedTuple):
    """One row of an explanation: a workload's pods on one node, and what they count.

    ``pvu_per_core`` is the node's rating (shown for PVU products only).
    """

    namespace: str
    workload_kind: str
    workload_name: str
    node: str
    pods: int
    containers: int
    charged_millicores: int
    capped_millicores: int
    pvu_per_core: int


CONTRIBUTION_FIELDS: Final = (
    ("namespace", "namespace"),
    ("workload_kind", "workloadKind"),
    ("workload_name", "workloadName"),
    ("node", "node"),
    ("pods", "pods"),
    ("containers", "containers"),
    ("charged_millicores", "chargedMillicores"),
    ("capped_millicores", "cappedMillicores"),
    ("pvu_per_core", "pvuPerCore"),
)
"""The one column table of a contribution: attribute, API name (JSON key, CSV header)."""


@dataclass(frozen=True, slots=True)
class UsageExplanation:
    """The breakdown behind one product's (or bundled product's) usage in one sample."""

    row: ExplainedRow
    product_name: str
    metric_quantity: int
    threads_per_core: int
    total_millicores: int
    contributions: tuple[Contribution, ...]

    @property
    def nodes(self) -> int:
        """Distinct nodes running at least one charged container (MVS counts these)."""
        return len({c.node for c in self.contributions if c.containers})


def explanation_json(
    explanation: UsageExplanation, *, sample: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """``explanation`` as the JSON document of SPEC 9; ``sample`` (``date``, ``sampleAt``)
    goes after ``metricName``. Bundled products add their Cloud Pak, MVS its node count."""
    row = explanation.row
    document: dict[str, Any] = {
        "productId": row.product_id,
        "productName": explanation.product_name,
        "metricName": row.metric,
        **(sample or {}),
        "metricQuantity": explanation.metric_quantity,
        "threadsPerCore": explanation.threads_per_core,
        "totalMillicores": explanation.total_millicores,
    }
    if row.cloudpak_id:
        document["cloudpakId"] = row.cloudpak_id
        document["cloudpakMetricName"] = row.cloudpak_metric
        document["metricConversion"] = row.conversion
    if row.metric == MANAGED_VIRTUAL_SERVER:
        document["nodes"] = explanation.nodes
    document["contributions"] = [
        contribution_json(c, metric=row.metric) for c in explanation.contributions
    ]
    return document


def contribution_json(contribution: Contribution, *, metric: str) -> dict[str, Any]:
    """``contribution`` as a JSON object; ``pvuPerCore`` only for a PVU product."""
    return {
        api_name: getattr(contribution, attribute)
        for attribute, api_name in contribution_columns(metric)
    }


def contribution_columns(metric: str) -> tuple[tuple[str, str], ...]:
    """The contribution columns shown for ``metric``: ``pvuPerCore`` for PVU only."""
    if metric == PROCESSOR_VALUE_UNIT:
        return CONTRIBUTION_FIELDS
    return CONTRIBUTION_FIELDS[:-1]


def contribution_cells(contribution: Contribution, *, metric: str) -> tuple[Cell, ...]:
    """The CSV cells of ``contribution``, in ``contribution_columns(metric)`` order."""
    return tuple(getattr(contribution, attribute) for attribute, _ in contribution_columns(metric))


def explained_order(contribution: Contribution) -> tuple[Any, ...]:
    """The API's order: ``cappedMillicores`` descending, then namespace, workload, node."""
    return (
        -contribution.capped_millicores,
        -contribution.charged_millicores,
        contribution.namespace,
        contribution.workload_kind,
        contribution.workload_name,
        contribution.node,
    )


# -- the breakdown -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CellContext:
    """What explaining a sample's cells needs besides them: the names behind the cell keys,
    the nodes' facts (by name), the chargeback groups (namespace -> group) and the settings
    in force, all as they were at the sample."""

    workloads: Sequence[tuple[str, Workload]]
    nodes: Sequence[str]
    node_facts: Mapping[str, NodeFacts]
    group_of: Mapping[str, str]
    settings: MeteringSettings


def node_facts(nodes: Iterable[Node], settings: MeteringSettings) -> dict[str, NodeFacts]:
    """Each node's facts under ``settings``, as measure reads them; pure."""
    quantities = MillicoreCache()
    return {node.name: _node_facts(node, settings, [], quantities) for node in nodes}


_Wanted = Mapping[str, Collection[ExplainedRow] | None]
"""Which explanations to make: group (``WHOLE_CLUSTER`` for the cluster) -> its rows
(``None``: every row)."""


def explain_usage(
    pods: Iterable[Pod],
    nodes: Iterable[Node],
    settings: MeteringSettings,
    *,
    only: Collection[ExplainedRow] | None = None,
    cells: Cells | None = None,
) -> dict[ExplainedRow, UsageExplanation]:
    """Explain the usage of every measurable product and bundled product of ``pods``; pure.

    The result is keyed by ``ExplainedRow``; Cloud Paks themselves are not explained
    (their usage is the sum of their bundled products' converted usage). ``only``
    limits the result to those rows; ``cells``: the pods' cells, counted already.
    """
    wanted = {WHOLE_CLUSTER: only}
    return explain_in_groups(pods, nodes, settings, {}, wanted=wanted, cells=cells)[WHOLE_CLUSTER]


def explain_in_groups(
    pods: Iterable[Pod],
    nodes: Iterable[Node],
    settings: MeteringSettings,
    group_of: Mapping[str, str],
    *,
    wanted: _Wanted,
    cells: Cells | None = None,
) -> dict[str, dict[ExplainedRow, UsageExplanation]]:
    """The explanations ``wanted`` (group -> rows) of the cluster and of chargeback groups
    (``group_of``: namespace -> group, SPEC 8); pure. ``cells``: the pods' cells counted
    already (the collector's), else counted here in one pass.

    A group is explained as if its namespaces' pods were the whole cluster (per-node
    capping per group), exactly as ``measuring.measure_in_groups`` measures it.
    """
    if cells is None:
        cells = CellIndex.of(pods).cells()
    context = CellContext(
        cells.workloads, cells.nodes, node_facts(nodes, settings), group_of, settings
    )
    return explain_cells(cells.rows, context, wanted=wanted)


def explain_cells(
    rows: Mapping[ExplainedRow, RowCells], context: CellContext, *, wanted: _Wanted
) -> dict[str, dict[ExplainedRow, UsageExplanation]]:
    """The explanations ``wanted`` (group -> rows) of ``rows``' cells under ``context``;
    pure. Cells of excluded namespaces count nowhere; a group's are those of its
    namespaces, split in one pass over each row's cells (50 groups cost one pass)."""
    excluded = context.settings.excluded_namespaces
    is_excluded = excluder(excluded) if excluded else None
    groups = {group for group in wanted if group != WHOLE_CLUSTER}
    # Per workload index: None (excluded: nowhere), else its wanted group or "".
    placed: dict[int, str | None] = {}

    def place(workload: int) -> str | None:
        namespace = context.workloads[workload][0]
        if is_excluded is not None and is_excluded(namespace):
            where = None
        else:
            group = context.group_of.get(namespace, WHOLE_CLUSTER)
            where = group if group in groups else WHOLE_CLUSTER
        placed[workload] = where
        return where

    explained: dict[str, dict[ExplainedRow, UsageExplanation]] = {group: {} for group in wanted}
    for key, row in rows.items():
        if not is_measurable(key.metric):
            continue
        in_group = [group for group, only in wanted.items() if only is None or key in only]
        if not in_group:
            continue
        parts: dict[str, tuple[dict[int, int], dict[int, int]]] = {g: ({}, {}) for g in in_group}
        whole = parts.get(WHOLE_CLUSTER)
        loads = row.loads
        for cell, count in row.counts.items():
            workload = cell >> CELL_SHIFT
            where = placed[workload] if workload in placed else place(workload)
            if where is None:
                continue
            if whole is not None:
                whole[0][cell] = count
                whole[1][cell] = loads[cell]
            if where:
                part = parts.get(where)
                if part is not None:
                    part[0][cell] = count
                    part[1][cell] = loads[cell]
        for group, (counts, part_loads) in parts.items():
            if counts:
                explained[group][key] = _explanation(
                    key, row.product_name, counts, part_loads, context
                )
    return explained


_BY_CAPPED_THEN_CHARGED: Final = itemgetter(7, 6)


def _explanation(
    key: ExplainedRow,
    product_name: str,
    counts: Mapping[int, int],
    loads: Mapping[int, int],
    context: CellContext,
) -> UsageExplanation:
    node_names, workloads, facts = context.nodes, context.workloads, context.node_facts
    settings = context.settings
    # Per cell its charged millicores: a container without a limit counts its node's CPU.
    charged: dict[int, int] = {}
    cpu_of: dict[int, int] = {}
    for cell, load in loads.items():
        unlimited = load >> LOAD_SHIFT
        millicores = load & LOAD_BITS
        if unlimited:
            node = cell & LOW_BITS
            cpu = cpu_of.get(node)
            if cpu is None:
                node_facts_ = facts.get(node_names[node])
                cpu = cpu_of[node] = (
                    node_facts_.cpu_millicores
                    if node_facts_ is not None and node_facts_.cpu_millicores is not None
                    else 0
                )
            millicores += unlimited * cpu
        charged[cell] = millicores
    # Per node: its charged millicores and whether it runs a charged container.
    totals: dict[int, int] = {}
    with_charged: set[int] = set()
    for cell, millicores in charged.items():
        node = cell & LOW_BITS
        totals[node] = totals.get(node, 0) + millicores
    for cell, count in counts.items():
        if count >> CELL_SHIFT:
            with_charged.add(cell & LOW_BITS)
    default_pvu = settings.default_pvu_per_core
    pvu: dict[int, int] = {}
    capped_at: dict[int, int] = {}  # the nodes over their cap, and the cap
    for node, total in totals.items():
        node_facts_ = facts.get(node_names[node])
        pvu[node] = node_facts_.pvu_per_core if node_facts_ is not None else default_pvu
        cap = (
            node_facts_.cpu_millicores if node_facts_ is not None and node_facts_.capping else None
        )
        if cap is not None and total > cap:
            capped_at[node] = cap
    cells = _in_name_order(charged, workloads, node_names)
    # Over-committed nodes share their cap among their cells; equal remainders are
    # served in name order, the order the cells are met in here.
    on_node: dict[int, list[int]] = {}
    for cell in cells:
        if cell & LOW_BITS in capped_at:
            on_node.setdefault(cell & LOW_BITS, []).append(cell)
    share_of: dict[int, int] = {}
    for node, shared in on_node.items():
        shares = largest_remainder_shares(capped_at[node], [charged[cell] for cell in shared])
        share_of.update(zip(shared, shares, strict=True))
    contributions: list[Contribution] = []
    add = contributions.append
    make = tuple.__new__  # Contribution's own __new__ binds arguments: ten times slower
    for cell in cells:
        node = cell & LOW_BITS
        namespace, (kind, name) = workloads[cell >> CELL_SHIFT]
        count = counts[cell]
        millicores = charged[cell]
        add(
            make(
                Contribution,
                (
                    namespace,
                    kind,
                    name,
                    node_names[node],
                    count & LOW_BITS,
                    count >> CELL_SHIFT,
                    millicores,
                    share_of.get(cell, millicores),
                    pvu[node],
                ),
            )
        )
    # Stable, reverse included: equal values keep the name order.
    contributions.sort(key=_BY_CAPPED_THEN_CHARGED, reverse=True)
    sums = NodeSums(
        {node_names[node]: total for node, total in totals.items()},
        {node_names[node] for node in with_charged},
    )
    value = quantity(
        key.metric,
        sums,
        facts,
        threads_per_core=settings.threads_per_core,
        default_pvu_per_core=default_pvu,
    )
    return UsageExplanation(
        row=key,
        product_name=product_name,
        metric_quantity=value,
        threads_per_core=settings.threads_per_core,
        total_millicores=sum(c.capped_millicores for c in contributions),
        contributions=tuple(contributions),
    )


def _in_name_order(
    cells: Iterable[int], workloads: Sequence[tuple[str, Workload]], nodes: Sequence[str]
) -> list[int]:
    """``cells`` in name order (namespace, workload kind and name, node): the names used
    are ranked once, then each cell sorts as one int ``(workload rank << 32) | node rank``."""
    keys = list(cells)
    used_workloads = sorted({cell >> CELL_SHIFT for cell in keys}, key=workloads.__getitem__)
    used_nodes = sorted({cell & LOW_BITS for cell in keys}, key=nodes.__getitem__)
    workload_rank = {index: rank for rank, index in enumerate(used_workloads)}
    node_rank = {index: rank for rank, index in enumerate(used_nodes)}
    ranked = sorted(
        (workload_rank[cell >> CELL_SHIFT] << CELL_SHIFT) | node_rank[cell & LOW_BITS]
        for cell in keys
    )
    return [
        (used_workloads[place >> CELL_SHIFT] << CELL_SHIFT) | used_nodes[place & LOW_BITS]
        for place in ranked
    ]
