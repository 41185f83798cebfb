"""One measurement of a cluster: every product, bundled product and service (SPEC 2).

``measure`` is a pure function of the cluster view and the settings.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Final

from license_service.errors import AnnotationError
from license_service.metering.cluster_view import ClusterView, Node, Pod
from license_service.metering.declarations import ProductDeclaration, read_declaration
from license_service.metering.node_usage import NodeFacts, NodeSums, is_measurable, quantity
from license_service.metering.quantities import parse_cpu_millicores
from license_service.metering.settings import MeteringSettings
from license_service.metering.usage import (
    FREE,
    AnnotationProblem,
    BundledProductUsage,
    Measurement,
    PodProblems,
    PodRef,
    ProductUsage,
    ServiceUsage,
    UnknownNode,
    UnmeasuredProduct,
)

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
    """Measure the usage of every product in ``view`` under ``settings``; pure."""
    warnings: list[str] = []
    nodes = {node.name: _node_facts(node, settings, warnings) for node in view.nodes}
    tally = _Tally()
    for pod in view.pods:
        if pod.running:
            _count_pod(pod, nodes, tally)
    return _measurement(tally, nodes, settings, warnings)


def _node_facts(node: Node, settings: MeteringSettings, warnings: list[str]) -> NodeFacts:
    limit = node.cpu_capacity if settings.capping_source == "capacity" else node.cpu_allocatable
    field_name = f"status.{settings.capping_source}.cpu"
    cap: int | None = None
    if limit is None:
        warnings.append(f"node {node.name!r} has no {field_name}: {_UNSTATED_CPU}")
    else:
        try:
            cap = parse_cpu_millicores(limit)
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


def _count_pod(pod: Pod, nodes: dict[str, NodeFacts], tally: _Tally) -> None:
    declaration = read_declaration(pod.annotations)
    if declaration is None:
        return
    if isinstance(declaration, tuple):
        tally.problems.append(PodProblems(pod.namespace, pod.name, tuple(sorted(declaration))))
        return
    node = nodes.get(pod.node_name)
    millicores = 0
    charged = 0
    without_limit = 0
    problems: list[AnnotationProblem] = []
    for container in pod.containers:
        if not declaration.charged.charges(container.name):
            continue
        charged += 1
        if container.cpu_limit is None:
            # No limit: the container may use the whole node (SPEC 2.4).
            if node is not None and node.cpu_millicores is not None:
                millicores += node.cpu_millicores
            else:
                without_limit += 1
            continue
        try:
            millicores += parse_cpu_millicores(container.cpu_limit)
        except AnnotationError as exc:
            problems.append(
                AnnotationProblem(f"containers[{container.name}].resources.limits.cpu", str(exc))
            )
    if problems:
        tally.problems.append(PodProblems(pod.namespace, pod.name, tuple(problems)))
        return
    if node is None:
        tally.unknown_pods[pod.node_name].append(PodRef(pod.namespace, pod.name))
        tally.unknown_without_limit[pod.node_name] += without_limit
    for groups, key in _groups_of(declaration, tally):
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(declaration)
        else:
            group.keep_smallest_names(declaration)
        group.sums.add(pod.node_name, millicores, charged_containers=charged)


def _groups_of(
    declaration: ProductDeclaration, tally: _Tally
) -> Iterable[tuple[dict[_Key, _Group], _Key]]:
    """The rows a pod counts towards: its product, or its bundled product and service."""
    cloudpak = declaration.cloudpak
    if cloudpak is None:
        yield tally.products, (declaration.product_id, declaration.metric)
        return
    base = (cloudpak.id, cloudpak.metric, declaration.product_id, declaration.metric)
    yield tally.bundled, (*base, str(cloudpak.ratio))
    if declaration.service is not None:
        yield tally.services, (*base, declaration.service.id)


def _measurement(
    tally: _Tally,
    nodes: dict[str, NodeFacts],
    settings: MeteringSettings,
    warnings: list[str],
) -> Measurement:
    def units(metric: str, sums: NodeSums) -> int:
        return quantity(
            metric,
            sums,
            nodes,
            threads_per_core=settings.threads_per_core,
            default_pvu_per_core=settings.default_pvu_per_core,
        )

    unmeasured: set[UnmeasuredProduct] = set()
    products: list[ProductUsage] = []
    for (product_id, metric), group in tally.products.items():
        name = group.declaration.product_name
        if is_measurable(metric):
            products.append(ProductUsage(name, product_id, metric, units(metric, group.sums)))
        else:
            unmeasured.add(UnmeasuredProduct(product_id, name, metric))

    bundled: list[BundledProductUsage] = []
    cloudpak_totals: dict[tuple[str, str], Fraction] = {}
    cloudpak_names: dict[tuple[str, str], str] = {}
    for (cloudpak_id, cloudpak_metric, product_id, metric, _), group in tally.bundled.items():
        declaration = group.declaration
        cloudpak = declaration.cloudpak
        assert cloudpak is not None  # bundled groups are made from Cloud Pak declarations
        if not is_measurable(metric):
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
            measured_quantity=units(metric, group.sums),
            conversion=cloudpak.ratio,
        )
        bundled.append(row)
        key = (cloudpak_id, cloudpak_metric)
        cloudpak_totals[key] = cloudpak_totals.get(key, Fraction(0)) + row.converted_quantity
        cloudpak_names[key] = min(cloudpak_names.get(key, cloudpak.name), cloudpak.name)
    for (cloudpak_id, cloudpak_metric), total in cloudpak_totals.items():
        value = 0 if cloudpak_metric == FREE else -(-total.numerator // total.denominator)
        products.append(
            ProductUsage(
                cloudpak_names[(cloudpak_id, cloudpak_metric)], cloudpak_id, cloudpak_metric, value
            )
        )

    services: list[ServiceUsage] = []
    for (
        cloudpak_id,
        cloudpak_metric,
        product_id,
        metric,
        service_id,
    ), group in tally.services.items():
        declaration = group.declaration
        if not is_measurable(metric):
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
                value=units(metric, group.sums),
            )
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
