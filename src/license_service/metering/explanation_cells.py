"""The cells behind usage explanations (SPEC 9), kept pod by pod.

A cell is one workload's pods on one node, for one explained row (a stand-alone
product, or a bundled product): how many pods, how many charged containers, the
millicores their CPU limits charge, and how many charged containers have no limit
(each counts as its node's whole CPU, SPEC 2.4, known only with the node's facts).

``CellIndex`` keeps every row's cells as pods come and go: the collector applies each
watch event to it, so a sample that raises a day's peak finds its breakdown counted
already and keeping it costs a copy, not a second pass over 150,000 pods.
``CellIndex.of(pods)`` counts a whole set of pods at once (a dump, the simulated
cluster, one measurement). ``cells()`` is a snapshot: a row's dictionaries are
copied by the index before it next changes them (copy on write), never by the reader.

Cells hold the pods of every namespace: excluded namespaces and chargeback groups
are applied when cells are explained, with the settings and labels of the sample
(``usage_explanations.explain_cells``). Only the rules that do not depend on
settings run here: what a pod declares, what its charged containers add up to.

The names behind cell keys and the nodes' CPU and rating are kept as a log that only
grows (``Cells.log``): a workload named, a node named, a node's state, a node gone. A
snapshot is a length of it, so a store keeps what is new since it last wrote (a few
entries) instead of every name at every sample; replaying a prefix gives the names
and nodes of any snapshot (``replay_log``).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, NamedTuple

from license_service.metering.cluster_view import Node, Pod
from license_service.metering.declarations import DeclarationCache, ProductDeclaration

# Shared with measure, so that both charge containers alike.
from license_service.metering.measuring import _charge
from license_service.metering.quantities import MillicoreCache
from license_service.metering.workloads import BARE_POD, Workload, workload_of_controller

# Cells are dictionaries of ints only: CPython does not track those for garbage
# collection, and they copy and encode at C speed.
CELL_SHIFT: Final = 32
"""A cell key is ``(workload << 32) | node`` (indexes of ``Cells.workloads``, ``Cells.nodes``);
a count is ``(charged containers << 32) | pods``."""
LOAD_SHIFT: Final = 40
"""A load is ``(containers without a CPU limit << 40) | millicores of the limits``."""
LOW_BITS: Final = (1 << CELL_SHIFT) - 1
LOAD_BITS: Final = (1 << LOAD_SHIFT) - 1

_CACHE_LIMIT: Final = 16_384  # remembered annotation/container pairs and controllers
_DEAD_LIMIT: Final = 4_096  # table entries without pods tolerated before a rebuild is asked


LogEntry = tuple[str | None, ...]
"""An entry of ``Cells.log``: ``("w", namespace, kind, name)`` a workload named (its index
is the count of ``"w"`` before it), ``("n", name)`` a node named (likewise),
``("s", name, cpu capacity, cpu allocatable, pvu per core)`` a node's state (the
``Node`` projection), ``("x", name)`` a node gone."""


class ExplainedRow(NamedTuple):
    """The key of an explained usage row: a stand-alone product (Cloud Pak fields ``""``)
    or a bundled product (``conversion`` is its ratio as ``a:b``)."""

    cloudpak_id: str
    cloudpak_metric: str
    product_id: str
    metric: str
    conversion: str


def row_key(declaration: ProductDeclaration) -> ExplainedRow:
    """The explained row a valid declaration counts into; pure."""
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


def declaration_names(declaration: ProductDeclaration) -> tuple[str, ...]:
    """What orders declarations of one row: the smallest names are shown, as in measure."""
    cloudpak = declaration.cloudpak
    return (declaration.product_name, cloudpak.name if cloudpak else "")


@dataclass(frozen=True, slots=True)
class RowCells:
    """One row's cells at one instant: ``counts`` and ``loads`` by cell key (the same keys,
    in the same order: an index adds and removes a cell's two entries together).

    ``product_name`` is the smallest among its pods' declarations, as in measure.
    """

    product_name: str
    counts: Mapping[int, int]
    loads: Mapping[int, int]


@dataclass(frozen=True, slots=True)
class Cells:
    """A snapshot of every row's cells and the names behind their keys.

    ``workloads`` and ``nodes`` may grow after the snapshot (they are only appended
    to); every key of ``rows`` points below ``workload_count`` and ``node_count``.
    ``log`` (which may grow too) holds the names and the nodes' states in the order
    they came: its first ``log_length`` entries are this snapshot's. ``epoch`` names
    the index the snapshot came from (and its log).
    """

    rows: Mapping[ExplainedRow, RowCells]
    workloads: Sequence[tuple[str, Workload]]
    nodes: Sequence[str]
    workload_count: int
    node_count: int
    epoch: str
    log: Sequence[LogEntry]
    log_length: int


@dataclass(slots=True)
class _Row:
    counts: dict[int, int] = field(default_factory=dict)
    loads: dict[int, int] = field(default_factory=dict)
    # names -> (a declaration with them, pods): the smallest names among the pods held now.
    declarations: dict[tuple[str, ...], tuple[ProductDeclaration, int]] = field(
        default_factory=dict
    )
    shared: bool = False  # a snapshot holds the dicts: copy before changing them


@dataclass(frozen=True, slots=True)
class _Pair:
    """What every pod with one annotation mapping and one container tuple counts."""

    key: ExplainedRow
    declaration: ProductDeclaration
    names: tuple[str, ...]
    count: int  # (charged containers << CELL_SHIFT) | 1
    load: int  # (without limit << LOAD_SHIFT) | millicores


class CellIndex:
    """Every explained row's cells, kept up to date one pod at a time (not thread-safe:
    its owner serialises ``add``, ``remove`` and ``cells``)."""

    def __init__(self) -> None:
        self._epoch = secrets.token_hex(8)
        self._log: list[LogEntry] = []
        self._node_states: dict[str, LogEntry] = {}
        self._rows: dict[ExplainedRow, _Row] = {}
        self._workloads: list[tuple[str, Workload]] = []
        self._workload_at: dict[tuple[str, Workload], int] = {}
        self._workload_pods: list[int] = []
        self._nodes: list[str] = []
        self._node_at: dict[str, int] = {}
        self._node_pods: list[int] = []
        self._dead = 0
        self._damaged = False
        self._forget_caches()

    @classmethod
    def of(cls, pods: Iterable[Pod], nodes: Iterable[Node] = ()) -> CellIndex:
        """An index holding ``pods`` and ``nodes``; pure."""
        index = cls()
        for node in nodes:
            index.set_node(node)
        index.add_all(pods)
        return index

    @property
    def wants_rebuild(self) -> bool:
        """Whether the owner should build a new index from its pods: the tables hold many
        names no pod uses any more, or a removal did not match what was added."""
        live = len(self._workloads) + len(self._nodes) - self._dead
        held = live + len(self._node_states)
        return (
            self._damaged
            or self._dead > max(_DEAD_LIMIT, live)
            or len(self._log) > 2 * held + _DEAD_LIMIT
        )

    def set_node(self, node: Node) -> None:
        """``node`` as it is now (its CPU and rating), logged when it changed."""
        state: LogEntry = (
            "s",
            node.name,
            node.cpu_capacity,
            node.cpu_allocatable,
            node.pvu_per_core,
        )
        if self._node_states.get(node.name) != state:
            self._node_states[node.name] = state
            self._log.append(state)

    def remove_node(self, name: str) -> None:
        """The node ``name`` is gone (its pods count as on a node the view does not hold)."""
        if self._node_states.pop(name, None) is not None:
            self._log.append(("x", name))

    def keep_nodes(self, nodes: Iterable[Node]) -> None:
        """Make ``nodes`` the nodes held: each set, any other removed."""
        held = set()
        for node in nodes:
            self.set_node(node)
            held.add(node.name)
        for name in [name for name in self._node_states if name not in held]:
            self.remove_node(name)

    def add(self, pod: Pod) -> None:
        """Count ``pod`` (nothing when it is not running or declares no valid product)."""
        self._follow(pod, 1)

    def remove(self, pod: Pod) -> None:
        """Take back what ``add(pod)`` counted (``pod`` as it was added)."""
        self._follow(pod, -1)

    def add_all(self, pods: Iterable[Pod]) -> None:
        """``add`` every pod of ``pods``.

        Replicas share their annotations, containers and controller (the decoder pools
        them) and are listed one after another: a pod like the one before it costs no
        look-up of its pair or workload.
        """
        last: tuple[object, object, object, str, _Pair | None, int] = (
            None,
            None,
            None,
            "",
            None,
            0,
        )
        count = self._count
        node_of = self._node
        for pod in pods:
            annotations = pod.annotations
            if not (pod.running and annotations):
                continue
            controller = pod.controller
            if (
                controller is not None
                and last[2] is controller
                and last[0] is annotations
                and last[1] is pod.containers
                and last[3] == pod.namespace
            ):
                pair, workload = last[4], last[5]
            else:
                pair = self._pair(pod)
                workload = -1 if pair is None else self._workload(pod)
                last = (annotations, pod.containers, controller, pod.namespace, pair, workload)
            if pair is not None:
                count(pair, workload, node_of(pod.node_name), 1)

    def cells(self) -> Cells:
        """A snapshot of every row's cells; later changes do not touch it."""
        rows: dict[ExplainedRow, RowCells] = {}
        for key, row in self._rows.items():
            row.shared = True
            declaration = row.declarations[min(row.declarations)][0]
            rows[key] = RowCells(declaration.product_name, row.counts, row.loads)
        return Cells(
            rows=rows,
            workloads=self._workloads,
            nodes=self._nodes,
            workload_count=len(self._workloads),
            node_count=len(self._nodes),
            epoch=self._epoch,
            log=self._log,
            log_length=len(self._log),
        )

    # -- one pod --------------------------------------------------------------------------

    def _follow(self, pod: Pod, sign: int) -> None:
        if pod.running and pod.annotations:
            pair = self._pair(pod)
            if pair is not None:
                self._count(pair, self._workload(pod), self._node(pod.node_name), sign)

    def _count(self, pair: _Pair, workload: int, node: int, sign: int) -> None:
        row = self._rows.get(pair.key)
        if row is None:
            if sign < 0:
                self._damaged = True
                return
            row = self._rows[pair.key] = _Row()
        elif row.shared:
            row.counts, row.loads, row.shared = dict(row.counts), dict(row.loads), False
        cell = (workload << CELL_SHIFT) | node
        counts = row.counts
        count = counts.get(cell, 0) + sign * pair.count
        if count > 0 and count & LOW_BITS:
            counts[cell] = count
            row.loads[cell] = row.loads.get(cell, 0) + sign * pair.load
        elif count == 0 and cell in counts:
            del counts[cell]
            del row.loads[cell]
        else:
            self._damaged = True  # a removal of what was never added: rebuild
            return
        self._count_declaration(row, pair, sign)
        if not counts:
            del self._rows[pair.key]
        self._workload_pods[workload] = self._used(self._workload_pods[workload], sign)
        self._node_pods[node] = self._used(self._node_pods[node], sign)

    @staticmethod
    def _count_declaration(row: _Row, pair: _Pair, sign: int) -> None:
        key = pair.names
        pods = row.declarations.get(key, (pair.declaration, 0))[1] + sign
        if pods:
            row.declarations[key] = (pair.declaration, pods)
        else:
            del row.declarations[key]

    def _used(self, pods: int, sign: int) -> int:
        after = pods + sign
        if after == 0:
            self._dead += 1
        elif pods == 0:
            self._dead -= 1
        return after

    def _pair(self, pod: Pod) -> _Pair | None:
        annotations, containers = pod.annotations, pod.containers
        seen = self._pairs.get((id(annotations), id(containers)))
        if seen is None or seen[0] is not annotations or seen[1] is not containers:
            if len(self._pairs) >= _CACHE_LIMIT:
                self._forget_caches()
            # The entry keeps both objects alive: their ids are not reused meanwhile.
            seen = self._pairs[(id(annotations), id(containers))] = (
                annotations,
                containers,
                self._work_out(pod),
            )
        return seen[2]

    def _work_out(self, pod: Pod) -> _Pair | None:
        declaration = self._declarations.read(pod.annotations)
        if not isinstance(declaration, ProductDeclaration):
            return None  # nothing declared, or problems: not counted (listed under /health)
        charge = _charge(declaration.charged, pod.containers, self._quantities)
        if charge.problems:
            return None  # not counted (listed under /health)
        return _Pair(
            row_key(declaration),
            declaration,
            declaration_names(declaration),
            (charge.charged << CELL_SHIFT) | 1,
            (charge.without_limit << LOAD_SHIFT) | charge.millicores,
        )

    def _workload(self, pod: Pod) -> int:
        controller, namespace = pod.controller, pod.namespace
        owner = (pod.name if controller is None else id(controller), namespace)
        known = self._owners.get(owner)
        if known is not None and known[0] is controller:
            return known[1]
        workload = (
            Workload(BARE_POD, pod.name)
            if controller is None
            else workload_of_controller(controller)
        )
        # Two ReplicaSets of one Deployment (a rolling upgrade) are one workload.
        index = self._workload_at.get((namespace, workload))
        if index is None:
            index = self._workload_at[(namespace, workload)] = len(self._workloads)
            self._workloads.append((namespace, workload))
            self._workload_pods.append(0)
            self._dead += 1
            self._log.append(("w", namespace, *workload))
        if len(self._owners) >= _CACHE_LIMIT:
            self._owners.clear()
        # The entry keeps the controller alive: its id is not reused meanwhile.
        self._owners[owner] = (controller, index)
        return index

    def _node(self, name: str) -> int:
        index = self._node_at.get(name)
        if index is None:
            index = self._node_at[name] = len(self._nodes)
            self._nodes.append(name)
            self._node_pods.append(0)
            self._dead += 1
            self._log.append(("n", name))
        return index

    def _forget_caches(self) -> None:
        self._pairs: dict[tuple[int, int], tuple[object, object, _Pair | None]] = {}
        self._owners: dict[tuple[int | str, str], tuple[object, int]] = {}
        self._declarations = DeclarationCache()
        self._quantities = MillicoreCache()


@dataclass(frozen=True, slots=True)
class ReplayedLog:
    """The names and nodes a prefix of a log gives (``replay_log``)."""

    workloads: list[tuple[str, Workload]]
    nodes: list[str]
    node_states: list[Node]


def replay_log(entries: Iterable[Sequence[str | None]]) -> ReplayedLog:
    """The workloads, node names and nodes' states of ``entries`` (a prefix of a
    ``Cells.log``); ``ValueError`` on an entry no index writes."""
    workloads: list[tuple[str, Workload]] = []
    nodes: list[str] = []
    states: dict[str, Node] = {}
    for entry in entries:
        match tuple(entry):
            case ("w", str(namespace), str(kind), str(name)):
                workloads.append((namespace, Workload(kind, name)))
            case ("n", str(name)):
                nodes.append(name)
            case ("s", str(name), capacity, allocatable, pvu) if all(
                value is None or isinstance(value, str) for value in (capacity, allocatable, pvu)
            ):
                states[name] = Node(name, capacity, allocatable, pvu)
            case ("x", str(name)):
                states.pop(name, None)
            case _:
                raise ValueError(f"unknown log entry {entry!r}")
    return ReplayedLog(workloads, nodes, list(states.values()))
