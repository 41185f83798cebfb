"""One measurement of a cluster: every product, bundled product and service (SPEC 2).

``measure`` is a pure function of the cluster view and the settings. At 150,000 pods
it must stay well under a second: the replicas of a workload share their
annotations and containers, so what they declare and charge is worked out once per
distinct set within the call (nothing is remembered between calls).

``measure_in_groups`` measures the cluster and, in the same pass over the pods, each
chargeback group (SPEC 8): a pod of a group's namespace is counted into its group's own
tally, so each group is measured by the very rules of the cluster (per-node capping, one
round-up) restricted to its pods; each group row is then added, node by node, to the
cluster's row while its quantity is computed, so the cluster's value is that of every
pod. Pods of excluded namespaces (``settings.excluded_namespaces``) are counted nowhere.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from license_service.errors import AnnotationError
from license_service.metering.charged_containers import ChargedContainers
from license_service.metering.cluster_view import ClusterView, Container, Node, Pod
from license_service.metering.declarations import DeclarationCache, ProductDeclaration
from license_service.metering.namespace_scope import excluder
from license_service.metering.node_usage import (
    NodeCaps,
    NodeFacts,
    NodeSums,
    add_sums,
    is_measurable,
    node_caps,
    quantity,
)
from license_service.metering.quantities import MillicoreCache
from license_service.metering.ratios import Ratio, rounded_up_total
from license_service.metering.settings import MeteringSettings
from license_service.metering.usage import (
    FREE,
    MANAGED_VIRTUAL_SERVER,
    VIRTUAL_PROCESSOR_CORE,
    AnnotationProblem,
    Measurement,
    PodProblems,
    PodRef,
    UnknownNode,
    UnmeasuredProduct,
)
from license_service.metering.usage_rows import BundledProductUsage, ProductUsage, ServiceUsage

_POSITIVE_INTEGER: Final = re.compile(r"[1-9]\d{0,5}")
_UNSTATED_CPU: Final = "its usage is not capped and containers without a CPU limit on it count as 0"

# Group keys (tuples of strings). A product is (productID, productMetric). A bundled
# product is (cloudpakId, productID, productMetric) as the SPEC says, refined by the
# Cloud Pak metric and the ratio, so that pods disagreeing on either (say, during a
# rolling upgrade) are each converted by their own ratio:
# (cloudpakId, cloudpakMetric, productID, productMetric, ratio). A service is
# (cloudpakId, cloudpakMetric, productID, productMetric, serviceId).
_Key = tuple[str, ...]


@dataclass(slots=True)
class _Group:
    """Accumulated usage of one row, and the names seen for it (the smallest wins)."""

    declaration: ProductDeclaration
    sums: NodeSums = field(default_factory=NodeSums)

    def keep_smallest_names(self, other: ProductDeclaration) -> None:
        if _names(other) < _names(self.declaration):
            self.declaration = other


def _names(declaration: ProductDeclaration) -> tuple[str, ...]:
    cloudpak = declaration.cloudpak
    service = declaration.service
    return (
        declaration.product_name,
        cloudpak.name if cloudpak else "",
        cloudpak.version if cloudpak else "",
        service.name if service else "",
    )


@dataclass(slots=True)
class _Tally:
    products: dict[_Key, _Group] = field(default_factory=dict)
    bundled: dict[_Key, _Group] = field(default_factory=dict)
    services: dict[_Key, _Group] = field(default_factory=dict)
    problems: list[PodProblems] = field(default_factory=list)
    unknown_pods: dict[str, list[PodRef]] = field(default_factory=lambda: defaultdict(list))
    unknown_without_limit: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def measure(view: ClusterView, settings: MeteringSettings) -> Measurement:
    """Measure the usage of every product in ``view`` under ``settings``; pure.

    Work is remembered within the call only (``_PodCounter``): each distinct annotation
    set, CPU quantity and (declaration, containers) pair is evaluated once.
    """
    return measure_in_groups(view, settings, {}).cluster


@dataclass(frozen=True, slots=True)
class GroupedMeasurement:
    """The cluster's measurement and, per group with licensed pods, the group's own.

    A group's measurement holds usage rows only (its problems are the cluster's).
    """

    cluster: Measurement
    groups: Mapping[str, Measurement]


def measure_in_groups(
    view: ClusterView, settings: MeteringSettings, group_of: Mapping[str, str]
) -> GroupedMeasurement:
    """Measure ``view`` as ``measure`` does and each group of ``group_of`` (namespace -> group)
    as if its namespaces' pods were the whole cluster; pure, one pass over the pods."""
    warnings: list[str] = []
    quantities = MillicoreCache()
    nodes = {node.name: _node_facts(node, settings, warnings, quantities) for node in view.nodes}
    counter = _PodCounter(nodes, quantities)
    count = counter.count
    excluded: Callable[[str], bool] | None = (
        excluder(settings.excluded_namespaces) if settings.excluded_namespaces else None
    )
    groups = group_of or None
    for pod in view.pods:
        # A pod without license annotations declares nothing: skipped without a call.
        if pod.running and pod.annotations:
            if excluded is not None and excluded(pod.namespace):
                continue
            count(pod, groups)
    # A group's pods were counted into the group alone: each group is measured while its
    # rows are added, node by node, to the cluster's, which then holds every pod.
    caps = node_caps(nodes)
    groups_measured = {
        group: _measurement(tally, nodes, caps, settings, [], add_to=counter.tally)
        for group, tally in sorted(counter.group_tallies.items())
    }
    return GroupedMeasurement(
        _measurement(counter.tally, nodes, caps, settings, warnings), groups_measured
    )


def _node_facts(
    node: Node, settings: MeteringSettings, warnings: list[str], quantities: MillicoreCache
) -> NodeFacts:
    limit = node.cpu_capacity if settings.capping_source == "capacity" else node.cpu_allocatable
    field_name = f"status.{settings.capping_source}.cpu"
    cap: int | None = None
    if limit is None:
        warnings.append(f"node {node.name!r} has no {field_name}: {_UNSTATED_CPU}")
    else:
        try:
            cap = quantities.parse(limit)
        except AnnotationError as exc:
            warnings.append(f"node {node.name!r} {field_name}: {exc}; {_UNSTATED_CPU}")
    pvu = settings.default_pvu_per_core
    if node.pvu_per_core is not None:
        if _POSITIVE_INTEGER.fullmatch(node.pvu_per_core.strip()):
            pvu = int(node.pvu_per_core)
        else:
            warnings.append(
                f"node {node.name!r} label license-service/pvu-per-core={node.pvu_per_core!r} "
                f"is not a positive whole number; the default {pvu} PVU per core is used"
            )
    return NodeFacts(cpu_millicores=cap, capping=settings.node_cpu_capping, pvu_per_core=pvu)


@dataclass(frozen=True, slots=True)
class _Charge:
    """What a pod's charged containers add up to, before the node is known.

    ``millicores`` sums the CPU limits; each of the ``without_limit`` containers without
    one counts as its node's whole CPU (SPEC 2.4); ``problems`` are unparsable limits.
    """

    millicores: int
    charged: int
    without_limit: int
    problems: tuple[AnnotationProblem, ...]


def _charge(
    charged: ChargedContainers, containers: Iterable[Container], quantities: MillicoreCache
) -> _Charge:
    millicores = 0
    count = 0
    without_limit = 0
    problems: list[AnnotationProblem] = []
    for container in containers:
        if not charged.charges(container.name):
            continue
        count += 1
        if container.cpu_limit is None:
            without_limit += 1
            continue
        try:
            millicores += quantities.parse(container.cpu_limit)
        except AnnotationError as exc:
            problems.append(
                AnnotationProblem(f"containers[{container.name}].resources.limits.cpu", str(exc))
            )
    return _Charge(millicores, count, without_limit, tuple(problems))


# Not frozen: a frozen dataclass sets each field through object.__setattr__. ``in_groups``
# (one dict shared by the pairs of one declaration) is filled as groups are met; nothing
# else changes once made.
@dataclass(slots=True)
class _Counted:
    """What every pod with one annotation mapping and one container tuple adds to the tally.

    ``problems`` set: such pods are listed with these problems and not counted.
    Otherwise each adds ``charge`` (on its own node) to the sums of every row in ``sums``
    (each row's ``NodeSums`` millicores, and for MVS rows the nodes with charged
    containers); a pod of a chargeback group to the sums ``in_groups[group]`` instead.
    """

    problems: tuple[AnnotationProblem, ...] | None
    charge: _Charge | None = None
    sums: tuple[_Sums, ...] = ()
    declaration: ProductDeclaration | None = None
    in_groups: dict[str, tuple[_Sums, ...]] = field(default_factory=dict)


_Sums = tuple[dict[str, int], set[str] | None]
"""A row's per-node millicores, and its nodes with charged containers (MVS rows only)."""


class _PodCounter:
    """Counts pods into a tally, remembering what equal pods share (one measurement only).

    Replicas share their annotation mapping and container tuple (the collector makes
    them the same objects; equal annotations are also found by content): what they
    declare, what their containers charge and which rows they count towards are worked
    out once per pair, so a pod costs a lookup and a few additions. Remembered objects
    are kept alive here, so the identities used as keys are never reused while the
    counter lives.

    A pod of a chargeback group is counted into its group's tally only (the rows of a
    declaration in a group found once per declaration and group), and
    ``add_groups_to_cluster`` then adds every group's per-node sums to the cluster's: a
    pod costs about the same with groups as without, and the merge is one addition per
    (group, row, node).
    """

    def __init__(self, nodes: dict[str, NodeFacts], quantities: MillicoreCache) -> None:
        self.tally = _Tally()
        self.group_tallies: dict[str, _Tally] = {}
        self._nodes = nodes
        self._quantities = quantities
        self._declarations = DeclarationCache()
        self._pods: dict[
            tuple[int, int], tuple[Mapping[str, str], tuple[Container, ...], _Counted | None]
        ] = {}
        # id of a declaration -> its rows' sums by group, one dict shared by every pair of
        # that declaration (declarations are kept alive by the counted pairs above).
        self._in_groups: dict[int, dict[str, tuple[_Sums, ...]]] = {}
        # The last pair counted, its group, and what it counted (see ``count``); the
        # mappings are kept alive by ``_pods``, so identity is a safe test.
        self._last: tuple[object, object, str | None, _Counted | None, tuple[_Sums, ...] | None] = (
            None,
            None,
            None,
            None,
            None,
        )
        # id of a declaration -> the keys of its rows: made once, not once per group.
        self._row_keys: dict[int, tuple[tuple[int, _Key], ...]] = {}

    def count(self, pod: Pod, group_of: Mapping[str, str] | None = None) -> None:
        """Add a running pod with license annotations to the tally, or to its group's
        (``group_of``: namespace -> chargeback group)."""
        annotations = pod.annotations
        containers = pod.containers
        namespace = pod.namespace
        last = self._last
        # Replicas are listed one after another (by namespace and name): most pods are
        # counted like the one before, which costs three comparisons (no group look-up).
        if last[0] is annotations and last[1] is containers and last[2] == namespace:
            counted, sums = last[3], last[4]
        else:
            group = group_of.get(namespace) if group_of else None
            counted, sums = self._counted(annotations, containers, group)
            self._last = (annotations, containers, namespace, counted, sums)
        if counted is None:
            return
        charge = counted.charge
        if sums is None or charge is None:
            self.tally.problems.append(PodProblems(pod.namespace, pod.name, counted.problems or ()))
            return
        node_name = pod.node_name
        node = self._nodes.get(node_name)
        millicores = charge.millicores
        if node is None:
            tally = self.tally
            tally.unknown_pods[node_name].append(PodRef(pod.namespace, pod.name))
            tally.unknown_without_limit[node_name] += charge.without_limit
        elif charge.without_limit and node.cpu_millicores is not None:
            # No limit: each such container may use the whole node (SPEC 2.4).
            millicores += charge.without_limit * node.cpu_millicores
        charged = charge.charged
        for per_node, nodes_with_charged in sums:
            # NodeSums.add, inlined: this loop runs for every licensed pod.
            per_node[node_name] = per_node.get(node_name, 0) + millicores
            if charged and nodes_with_charged is not None:
                nodes_with_charged.add(node_name)

    def _counted(
        self, annotations: Mapping[str, str], containers: tuple[Container, ...], group: str | None
    ) -> tuple[_Counted | None, tuple[_Sums, ...] | None]:
        """What pods of this pair count and, unless they have problems, the sums they add
        to (``group``'s, or the cluster's)."""
        seen = self._pods.get((id(annotations), id(containers)))
        if seen is not None and seen[0] is annotations and seen[1] is containers:
            counted = seen[2]
        else:
            counted = self._work_out(annotations, containers)
            self._pods[(id(annotations), id(containers))] = (annotations, containers, counted)
        if counted is None or counted.problems is not None or counted.charge is None:
            return counted, None
        if group is None:
            return counted, counted.sums
        return counted, counted.in_groups.get(group) or self._in_group(counted, group)

    def _in_group(self, counted: _Counted, group: str) -> tuple[_Sums, ...]:
        """The sums a counted pair adds to in ``group``'s tally (kept for its declaration)."""
        declaration = counted.declaration
        assert declaration is not None  # counted without problems
        tally = self.group_tallies.get(group)
        if tally is None:
            tally = self.group_tallies[group] = _Tally()
        sums = counted.in_groups[group] = _row_sums(declaration, tally, self._keys_of(declaration))
        return sums

    def _keys_of(self, declaration: ProductDeclaration) -> tuple[tuple[int, _Key], ...]:
        """``_rows_of(declaration)``, worked out once per declaration."""
        keys = self._row_keys.get(id(declaration))
        if keys is None:
            keys = self._row_keys[id(declaration)] = tuple(_rows_of(declaration))
        return keys

    def _work_out(
        self, annotations: Mapping[str, str], containers: tuple[Container, ...]
    ) -> _Counted | None:
        """What pods with ``annotations`` and ``containers`` count; ``None``: nothing declared."""
        declaration = self._declarations.read(annotations)
        if declaration is None:
            return None
        if isinstance(declaration, tuple):
            return _Counted(problems=tuple(sorted(declaration)))
        charge = _charge(declaration.charged, containers, self._quantities)
        if charge.problems:
            return _Counted(problems=charge.problems)
        return _Counted(
            problems=None,
            charge=charge,
            sums=_row_sums(declaration, self.tally, self._keys_of(declaration)),
            declaration=declaration,
            in_groups=self._in_groups.setdefault(id(declaration), {}),
        )


def _row_sums(
    declaration: ProductDeclaration, tally: _Tally, keys: Iterable[tuple[int, _Key]]
) -> tuple[_Sums, ...]:
    """The sums of the rows of ``tally`` that pods of ``declaration`` count towards (the
    rows of ``keys``: ``_rows_of(declaration)``)."""
    kinds = (tally.products, tally.bundled, tally.services)
    # Only MVS counts nodes: other rows skip the set (a set per row of every group).
    counts_nodes = declaration.metric == MANAGED_VIRTUAL_SERVER
    sums = []
    for kind, key in keys:
        rows = kinds[kind]
        row = rows.get(key)
        if row is None:
            # Built directly: dataclass default factories cost more per row.
            row = rows[key] = _Group(declaration, NodeSums({}, set()))
        elif row.declaration is not declaration:
            row.keep_smallest_names(declaration)
        sums.append(
            (row.sums.millicores, row.sums.nodes_with_charged_containers if counts_nodes else None)
        )
    return tuple(sums)


def _rows_of(declaration: ProductDeclaration) -> Iterable[tuple[int, _Key]]:
    """The rows a pod counts towards: its product (kind 0), or its bundled product (1) and
    service (2)."""
    cloudpak = declaration.cloudpak
    if cloudpak is None:
        yield 0, (declaration.product_id, declaration.metric)
        return
    base = (cloudpak.id, cloudpak.metric, declaration.product_id, declaration.metric)
    yield 1, (*base, str(cloudpak.ratio))
    if declaration.service is not None:
        yield 2, (*base, declaration.service.id)


@dataclass(frozen=True, slots=True)
class _RowMeter:
    """Measures a tally's rows; with ``add_to``, adds each row to that tally's as it goes."""

    nodes: dict[str, NodeFacts]
    caps: NodeCaps
    settings: MeteringSettings
    add_to: _Tally | None

    def units(self, kind: int, key: _Key, group: _Group, metric: str) -> int:
        """The quantity of the row ``key`` (SPEC 2.5); with ``add_to``, its sums are also
        added to that tally's row of ``key`` (``cluster_row``)."""
        sums = group.sums.millicores
        into = None if self.add_to is None else self.cluster_row(kind, key, group).millicores
        if metric == VIRTUAL_PROCESSOR_CORE:
            # Most rows, measured by the thousand with groups: through the caps made once
            # per measurement, without the facts of each node.
            if into is not None:
                add_sums(into, sums)
            return -(-self.caps.capped_sum(sums) // (1000 * self.settings.threads_per_core))
        return quantity(
            metric,
            group.sums,
            self.nodes,
            threads_per_core=self.settings.threads_per_core,
            default_pvu_per_core=self.settings.default_pvu_per_core,
            add_to=into,
        )

    def cluster_row(self, kind: int, key: _Key, group: _Group) -> NodeSums:
        """The ``add_to`` tally's row of ``key`` (made when missing), its MVS nodes joined."""
        assert self.add_to is not None  # called for a group's rows only
        add_to = self.add_to
        rows = (add_to.products, add_to.bundled, add_to.services)[kind]
        target = rows.get(key)
        if target is None:
            target = rows[key] = _Group(group.declaration, NodeSums({}, set()))
        elif target.declaration is not group.declaration:
            target.keep_smallest_names(group.declaration)
        if group.sums.nodes_with_charged_containers:
            target.sums.nodes_with_charged_containers |= group.sums.nodes_with_charged_containers
        return target.sums

    def unmeasured_row(self, kind: int, key: _Key, group: _Group) -> None:
        """A row no quantity is computed for: only made in the ``add_to`` tally (its names
        joined), where it is listed as unmeasured; its per-node sums are read by nothing."""
        if self.add_to is not None:
            self.cluster_row(kind, key, group)


def _measurement(
    tally: _Tally,
    nodes: dict[str, NodeFacts],
    caps: NodeCaps,
    settings: MeteringSettings,
    warnings: list[str],
    *,
    add_to: _Tally | None = None,
) -> Measurement:
    """The measurement of ``tally``. ``add_to`` (``tally`` is a chargeback group's): its rows
    are also added to that tally's (the cluster's), and only usage rows are made."""
    meter = _RowMeter(nodes, caps, settings, add_to)
    units, unmeasured_row = meter.units, meter.unmeasured_row

    unmeasured: set[UnmeasuredProduct] = set()
    products: list[ProductUsage] = []
    for product_key, group in tally.products.items():
        product_id, metric = product_key
        name = group.declaration.product_name
        if is_measurable(metric):
            value = units(0, product_key, group, metric)
            products.append(ProductUsage(name, product_id, metric, value))
        else:
            unmeasured_row(0, product_key, group)
            unmeasured.add(UnmeasuredProduct(product_id, name, metric))

    bundled: list[BundledProductUsage] = []
    # Per Cloud Pak, the measured quantities summed by ratio (its text, part of the row's
    # key): converting each sum once is exact (conversion is linear).
    cloudpak_measured: dict[tuple[str, str], dict[str, tuple[Ratio, int]]] = {}
    cloudpak_names: dict[tuple[str, str], str] = {}
    for bundled_key, group in tally.bundled.items():
        cloudpak_id, cloudpak_metric, product_id, metric, ratio_text = bundled_key
        declaration = group.declaration
        cloudpak = declaration.cloudpak
        assert cloudpak is not None  # bundled groups are made from Cloud Pak declarations
        if not is_measurable(metric):
            unmeasured_row(1, bundled_key, group)
            unmeasured.add(
                UnmeasuredProduct(product_id, declaration.product_name, metric, cloudpak_id)
            )
            continue
        row = BundledProductUsage(
            product_name=declaration.product_name,
            product_id=product_id,
            cloudpak_id=cloudpak_id,
            cloudpak_name=cloudpak.name,
            cloudpak_version=cloudpak.version,
            cloudpak_metric=cloudpak_metric,
            metric=metric,
            measured_quantity=units(1, bundled_key, group, metric),
            conversion=cloudpak.ratio,
        )
        bundled.append(row)
        key = (cloudpak_id, cloudpak_metric)
        by_ratio = cloudpak_measured.setdefault(key, {})
        summed = by_ratio.get(ratio_text)
        by_ratio[ratio_text] = (
            cloudpak.ratio,
            row.measured_quantity + (0 if summed is None else summed[1]),
        )
        cloudpak_names[key] = min(cloudpak_names.get(key, cloudpak.name), cloudpak.name)
    for (cloudpak_id, cloudpak_metric), by_ratio in cloudpak_measured.items():
        value = 0 if cloudpak_metric == FREE else rounded_up_total(by_ratio.values())
        products.append(
            ProductUsage(
                cloudpak_names[(cloudpak_id, cloudpak_metric)], cloudpak_id, cloudpak_metric, value
            )
        )

    services: list[ServiceUsage] = []
    for service_key, group in tally.services.items():
        cloudpak_id, cloudpak_metric, product_id, metric, service_id = service_key
        declaration = group.declaration
        if not is_measurable(metric):
            unmeasured_row(2, service_key, group)
            continue
        assert declaration.service is not None
        services.append(
            ServiceUsage(
                cloudpak_id=cloudpak_id,
                cloudpak_metric=cloudpak_metric,
                product_name=declaration.product_name,
                product_id=product_id,
                metric=metric,
                service_name=declaration.service.name,
                service_id=service_id,
                value=units(2, service_key, group, metric),
            )
        )

    if add_to is not None:
        return Measurement(
            products=tuple(sorted(products)),
            bundled_products=tuple(sorted(bundled)),
            services=tuple(sorted(services)),
        )
    unknown = tuple(
        UnknownNode(name, tuple(sorted(pods)), tally.unknown_without_limit[name])
        for name, pods in sorted(tally.unknown_pods.items())
    )
    return Measurement(
        products=tuple(sorted(products)),
        bundled_products=tuple(sorted(bundled)),
        services=tuple(sorted(services)),
        incomplete_annotations=tuple(sorted(tally.problems)),
        unmeasured_metrics=tuple(sorted(unmeasured, key=_unmeasured_order)),
        unknown_nodes=unknown,
        warnings=tuple(sorted(set(warnings))),
    )


def _unmeasured_order(product: UnmeasuredProduct) -> tuple[str, str, str, str]:
    return (product.name, product.id, product.metric, product.cloudpak_id or "")
