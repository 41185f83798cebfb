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

Replicas share their annotations, containers and controller (the decoder pools them):
pods are first counted by those identities, node and namespace, so the work per pod is
one dictionary update and the rules run once per distinct combination.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Final, NamedTuple

from license_service.formats.csv_lines import Cell
from license_service.metering.cluster_view import Node, Pod
from license_service.metering.declarations import DeclarationCache, ProductDeclaration
from license_service.metering.largest_remainders import largest_remainder_shares

# Shared with measure, so that both read nodes and charged containers alike.
from license_service.metering.measuring import _charge, _node_facts
from license_service.metering.namespace_scope import excluder
from license_service.metering.node_usage import NodeFacts, NodeSums, is_measurable, quantity
from license_service.metering.quantities import MillicoreCache
from license_service.metering.settings import MeteringSettings
from license_service.metering.usage import MANAGED_VIRTUAL_SERVER, PROCESSOR_VALUE_UNIT
from license_service.metering.workloads import BARE_POD, Workload, workload_of_controller

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


class ExplainedRow(NamedTuple):
    """The key of an explained usage row: a stand-alone product (Cloud Pak fields ``""``)
    or a bundled product (``conversion`` is its ratio as ``a:b``)."""

    cloudpak_id: str
    cloudpak_metric: str
    product_id: str
    metric: str
    conversion: str


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

# The cells of a sample are counted in dictionaries of ints only: CPython does not track
# those for garbage collection, so 50,000 cells add no collector passes over the view.
# A cell key is ``(workload index << 32) | node index``; a count is
# ``(charged containers << 32) | pods`` (fewer than 2**32 pods in any view).
_SHIFT: Final = 32
_LOW: Final = (1 << _SHIFT) - 1


@dataclass(slots=True)
class _Tables:
    """The names behind the indexes of cell keys, shared by every row of one explanation."""

    nodes: list[str] = field(default_factory=list)
    workloads: list[tuple[str, Workload]] = field(default_factory=list)  # (namespace, workload)


@dataclass(slots=True)
class _Row:
    declaration: ProductDeclaration
    counts: dict[int, int] = field(default_factory=dict)
    millicores: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Pair:
    """What every pod with one annotation mapping and one container tuple counts, and where."""

    row: _Row
    millicores: int
    count: int  # (charged containers << _SHIFT) | 1: what one pod adds to its cell's count
    without_limit: int


_Wanted = Mapping[str, Collection[ExplainedRow] | None]
"""Which explanations to make: group (``WHOLE_CLUSTER`` for the cluster) -> its rows
(``None``: every row)."""


def explain_usage(
    pods: Iterable[Pod],
    nodes: Iterable[Node],
    settings: MeteringSettings,
    *,
    only: Collection[ExplainedRow] | None = None,
) -> dict[ExplainedRow, UsageExplanation]:
    """Explain the usage of every measurable product and bundled product of ``pods``; pure.

    The result is keyed by ``ExplainedRow``; Cloud Paks themselves are not explained
    (their usage is the sum of their bundled products' converted usage). ``only``
    limits the work to those rows (the pods of other products are counted, not explained).
    """
    return explain_in_groups(pods, nodes, settings, {}, wanted={WHOLE_CLUSTER: only})[WHOLE_CLUSTER]


def explain_in_groups(
    pods: Iterable[Pod],
    nodes: Iterable[Node],
    settings: MeteringSettings,
    group_of: Mapping[str, str],
    *,
    wanted: _Wanted,
) -> dict[str, dict[ExplainedRow, UsageExplanation]]:
    """The explanations ``wanted`` (group -> rows) of the cluster and of chargeback groups
    (``group_of``: namespace -> group, SPEC 8); pure, one pass over the pods.

    A group is explained as if its namespaces' pods were the whole cluster (per-node
    capping per group), exactly as ``measuring.measure_in_groups`` measures it: its
    cells are the cluster's cells of its namespaces, so a group costs no pass of its own.
    """
    facts = {node.name: _node_facts(node, settings, [], MillicoreCache()) for node in nodes}
    rows_wanted: set[ExplainedRow] | None = None
    if all(rows is not None for rows in wanted.values()):
        rows_wanted = {row for rows in wanted.values() for row in rows or ()}
    tables = _Tables()
    rows = _rows(pods, facts, settings, tables, only=rows_wanted)
    order = _Order.of(tables)
    in_groups = _split_by_group(rows, tables, group_of, wanted)
    explained: dict[str, dict[ExplainedRow, UsageExplanation]] = {}
    for group, only in wanted.items():
        chosen = rows if group == WHOLE_CLUSTER else in_groups.get(group, {})
        explained[group] = {
            key: _explanation(key, row, tables=tables, order=order, facts=facts, settings=settings)
            for key, row in chosen.items()
            if is_measurable(key.metric) and (only is None or key in only)
        }
    return explained


def _split_by_group(
    rows: Mapping[ExplainedRow, _Row],
    tables: _Tables,
    group_of: Mapping[str, str],
    wanted: _Wanted,
) -> dict[str, dict[ExplainedRow, _Row]]:
    """The cells of ``rows`` in each wanted group's namespaces, in one pass over the cells
    (50 groups cost one pass, not 50); a group's rows without cells are left out."""
    groups = {group for group in wanted if group != WHOLE_CLUSTER}
    if not groups:
        return {}
    # The group of each workload (its namespace's), or None: not wanted.
    group_at = [
        group if (group := group_of.get(namespace)) in groups else None
        for namespace, _ in tables.workloads
    ]
    split: dict[str, dict[ExplainedRow, _Row]] = {}
    for key, row in rows.items():
        parts: dict[str, _Row] = {}
        millicores = row.millicores
        for cell, count in row.counts.items():
            group = group_at[cell >> _SHIFT]
            if group is None:
                continue
            part = parts.get(group)
            if part is None:
                only = wanted[group]
                if only is not None and key not in only:
                    continue
                part = parts[group] = _Row(row.declaration)
            part.counts[cell] = count
            part.millicores[cell] = millicores[cell]
        for group, part in parts.items():
            split.setdefault(group, {})[key] = part
    return split


class _Pairs:
    """The rows and charges of annotation and container pairs, worked out once per pair."""

    def __init__(self, only: Collection[ExplainedRow] | None) -> None:
        self.rows: dict[ExplainedRow, _Row] = {}
        self._only = only
        self._declarations = DeclarationCache()
        self._quantities = MillicoreCache()
        self._by_declaration: dict[int, tuple[ProductDeclaration, ExplainedRow | None]] = {}
        # The keyed objects are kept alive by these values, so their ids are never reused.
        self._worked: dict[tuple[int, int], tuple[object, object, _Pair | None]] = {}

    def of(self, pod: Pod) -> _Pair | None:
        """``work_out(pod)``, once per annotation mapping and container tuple."""
        annotations, containers = pod.annotations, pod.containers
        seen = self._worked.get((id(annotations), id(containers)))
        if seen is None or seen[0] is not annotations or seen[1] is not containers:
            seen = self._worked[(id(annotations), id(containers))] = (
                annotations,
                containers,
                self.work_out(pod),
            )
        return seen[2]

    def work_out(self, pod: Pod) -> _Pair | None:
        """What ``pod``'s pair counts; ``None``: nothing declared, not counted (problems), or
        a row not wanted."""
        declaration = self._declarations.read(pod.annotations)
        if not isinstance(declaration, ProductDeclaration):
            return None  # nothing declared, or problems: not counted (listed under /health)
        known = self._by_declaration.get(id(declaration))
        if known is None:
            key = _row_key(declaration)
            chosen = key if self._only is None or key in self._only else None
            known = self._by_declaration[id(declaration)] = (declaration, chosen)
        if known[1] is None:
            return None
        key = known[1]
        charge = _charge(declaration.charged, pod.containers, self._quantities)
        if charge.problems:
            return None  # not counted (listed under /health): no row made for it
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = _Row(declaration)
        elif _names(declaration) < _names(row.declaration):
            row.declaration = declaration  # the smallest names win, as in measure
        return _Pair(row, charge.millicores, (charge.charged << _SHIFT) | 1, charge.without_limit)


class _WorkloadIndex:
    """The index of each pod's workload in ``tables.workloads``, worked out once per
    controller (or bare pod) and namespace."""

    def __init__(self, tables: _Tables) -> None:
        self._workloads = tables.workloads
        # The controllers are kept alive by these values, so their ids are never reused.
        self._by_owner: dict[tuple[int | str, str], tuple[object, int]] = {}
        self._by_name: dict[tuple[str, Workload], int] = {}

    def of(self, pod: Pod) -> int:
        """The index of ``pod``'s workload (added to the table when new)."""
        controller, namespace = pod.controller, pod.namespace
        owner = (pod.name if controller is None else id(controller), namespace)
        known = self._by_owner.get(owner)
        if known is None:
            workload = (
                Workload(BARE_POD, pod.name)
                if controller is None
                else workload_of_controller(controller)
            )
            # Two ReplicaSets of one Deployment (a rolling upgrade) are one workload.
            index = self._by_name.get((namespace, workload))
            if index is None:
                index = self._by_name[(namespace, workload)] = len(self._workloads)
                self._workloads.append((namespace, workload))
            known = self._by_owner[owner] = (controller, index)
        return known[1]


def _rows(
    pods: Iterable[Pod],
    facts: Mapping[str, NodeFacts],
    settings: MeteringSettings,
    tables: _Tables,
    *,
    only: Collection[ExplainedRow] | None,
) -> dict[ExplainedRow, _Row]:
    """The cells of every explained row (of ``only``) in one pass over the licensed running
    pods (those of excluded namespaces counted nowhere, as in measure); ``tables`` gets
    the names behind the cell keys.

    Replicas share their annotations, containers and controller (the decoder pools them):
    what a pair charges and a workload's index are worked out once, and each pod costs a
    few dictionary lookups on ints.
    """
    pairs = _Pairs(only)
    workload_of = _WorkloadIndex(tables).of
    node_index: dict[str, int] = {}
    node_names = tables.nodes
    excluded = excluder(settings.excluded_namespaces) if settings.excluded_namespaces else None

    # The pod before, and what it counted: replicas are listed one after another, so most
    # pods share its annotations, containers, controller and namespace and cost no look-up
    # of their pair or workload (the compared objects are kept alive by ``pairs`` and
    # ``workload_of``). A pod without a controller is its own workload: never shared.
    last: tuple[object, object, object, str, _Pair | None, int] = (None, None, None, "", None, 0)
    for pod in pods:
        annotations = pod.annotations
        if not (pod.running and annotations):
            continue
        namespace = pod.namespace
        containers = pod.containers
        controller = pod.controller
        if (
            controller is not None
            and last[2] is controller
            and last[0] is annotations
            and last[1] is containers
            and last[3] == namespace
        ):
            pair, workload_at = last[4], last[5]
        else:
            if excluded is not None and excluded(namespace):
                continue  # before its pair is worked out: an excluded pod makes no row
            pair = pairs.of(pod)
            workload_at = -1 if pair is None else workload_of(pod)
            last = (annotations, containers, controller, namespace, pair, workload_at)
        if pair is None:
            continue
        node_name = pod.node_name
        node = node_index.get(node_name)
        if node is None:
            node = node_index[node_name] = len(node_names)
            node_names.append(node_name)
        millicores = pair.millicores
        if pair.without_limit:
            facts_of_node = facts.get(node_name)
            if facts_of_node is not None and facts_of_node.cpu_millicores is not None:
                # No limit: each such container may use the whole node (SPEC 2.4).
                millicores += pair.without_limit * facts_of_node.cpu_millicores
        cell = (workload_at << _SHIFT) | node
        row = pair.row
        counts = row.counts
        counts[cell] = counts.get(cell, 0) + pair.count
        charged = row.millicores
        charged[cell] = charged.get(cell, 0) + millicores
    return pairs.rows


def _row_key(declaration: ProductDeclaration) -> ExplainedRow:
    cloudpak = declaration.cloudpak
    if cloudpak is None:
        return ExplainedRow("", "", declaration.product_id, declaration.metric, "")
    return ExplainedRow(
        cloudpak.id,
        cloudpak.metric,
        declaration.product_id,
        declaration.metric,
        str(cloudpak.ratio),
    )


def _names(declaration: ProductDeclaration) -> tuple[str, ...]:
    cloudpak = declaration.cloudpak
    return (declaration.product_name, cloudpak.name if cloudpak else "")


_BY_CAPPED_THEN_CHARGED: Final = itemgetter(7, 6)


@dataclass(frozen=True, slots=True)
class _Order:
    """The rank of every workload (namespace, kind, name) and node (name) of ``_Tables``,
    and back: a cell's place in the API's order is then one int, ``(workload rank << 32) |
    node rank``, and ints sort fast."""

    workload_rank: list[int]
    node_rank: list[int]
    workload_at: list[int]
    node_at: list[int]

    @classmethod
    def of(cls, tables: _Tables) -> _Order:
        """The order of ``tables``' names."""
        workload_at = sorted(range(len(tables.workloads)), key=tables.workloads.__getitem__)
        node_at = sorted(range(len(tables.nodes)), key=tables.nodes.__getitem__)
        return cls(_inverse(workload_at), _inverse(node_at), workload_at, node_at)


def _inverse(permutation: list[int]) -> list[int]:
    inverse = [0] * len(permutation)
    for rank, index in enumerate(permutation):
        inverse[index] = rank
    return inverse


def _explanation(
    key: ExplainedRow,
    row: _Row,
    *,
    tables: _Tables,
    order: _Order,
    facts: Mapping[str, NodeFacts],
    settings: MeteringSettings,
) -> UsageExplanation:
    node_names, workloads = tables.nodes, tables.workloads
    counts, charged = row.counts, row.millicores
    # Per node: its charged millicores and whether it runs a charged container.
    totals: dict[int, int] = {}
    with_charged: set[int] = set()
    for cell, millicores in charged.items():
        node = cell & _LOW
        totals[node] = totals.get(node, 0) + millicores
    for cell, count in counts.items():
        if count >> _SHIFT:
            with_charged.add(cell & _LOW)
    default_pvu = settings.default_pvu_per_core
    pvu: dict[int, int] = {}
    capped_at: dict[int, int] = {}  # the nodes over their cap, and the cap
    for node, total in totals.items():
        node_facts = facts.get(node_names[node])
        pvu[node] = node_facts.pvu_per_core if node_facts is not None else default_pvu
        cap = node_facts.cpu_millicores if node_facts is not None and node_facts.capping else None
        if cap is not None and total > cap:
            capped_at[node] = cap
    # The cells in name order (namespace, workload kind and name, node), as ranked ints.
    workload_rank, node_rank = order.workload_rank, order.node_rank
    ranked = sorted(
        (workload_rank[cell >> _SHIFT] << _SHIFT) | node_rank[cell & _LOW] for cell in charged
    )
    workload_at, node_at = order.workload_at, order.node_at
    cells = [(workload_at[place >> _SHIFT] << _SHIFT) | node_at[place & _LOW] for place in ranked]
    # Over-committed nodes share their cap among their cells; equal remainders are
    # served in name order, the order the cells are met in here.
    on_node: dict[int, list[int]] = {}
    for cell in cells:
        if cell & _LOW in capped_at:
            on_node.setdefault(cell & _LOW, []).append(cell)
    share_of: dict[int, int] = {}
    for node, shared in on_node.items():
        shares = largest_remainder_shares(capped_at[node], [charged[cell] for cell in shared])
        share_of.update(zip(shared, shares, strict=True))
    contributions: list[Contribution] = []
    add = contributions.append
    make = tuple.__new__  # Contribution's own __new__ binds arguments: ten times slower
    for cell in cells:
        node = cell & _LOW
        namespace, (kind, name) = workloads[cell >> _SHIFT]
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
                    count & _LOW,
                    count >> _SHIFT,
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
        product_name=row.declaration.product_name,
        metric_quantity=value,
        threads_per_core=settings.threads_per_core,
        total_millicores=sum(c.capped_millicores for c in contributions),
        contributions=tuple(contributions),
    )
