"""What one measurement of a cluster yields (SPEC 2.5-2.6, 3.4): usage rows and problems.

The usage rows are those of ``usage_rows``. Rows are sorted the way the API lists
them, so equal measurements compare equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from license_service.metering.usage_rows import BundledProductUsage, ProductUsage, ServiceUsage

VIRTUAL_PROCESSOR_CORE: Final = "VIRTUAL_PROCESSOR_CORE"
PROCESSOR_VALUE_UNIT: Final = "PROCESSOR_VALUE_UNIT"
MANAGED_VIRTUAL_SERVER: Final = "MANAGED_VIRTUAL_SERVER"
FREE: Final = "FREE"


@dataclass(frozen=True, slots=True, order=True)
class AnnotationProblem:
    """One broken rule on a pod: which annotation (or container) and why."""

    annotation: str
    reason: str


@dataclass(frozen=True, slots=True, order=True)
class PodProblems:
    """A pod that declares licensed software but was not counted, with every problem found."""

    namespace: str
    name: str
    problems: tuple[AnnotationProblem, ...]


@dataclass(frozen=True, slots=True, order=True)
class UnmeasuredProduct:
    """A product whose metric cannot be measured from pod resources (SPEC 2.5)."""

    id: str
    name: str
    metric: str
    cloudpak_id: str | None = None


@dataclass(frozen=True, slots=True, order=True)
class PodRef:
    """A pod named by namespace and name."""

    namespace: str
    name: str


@dataclass(frozen=True, slots=True, order=True)
class UnknownNode:
    """A node that licensed pods run on but the cluster view does not list.

    Its pods are measured without capping; containers without a CPU limit there
    cannot be counted (the node's capacity is unknown) and are counted in
    ``containers_without_limit``.
    """

    node_name: str
    pods: tuple[PodRef, ...]
    containers_without_limit: int


@dataclass(frozen=True, slots=True)
class Measurement:
    """The usage of every product, bundled product and service at one instant, and the problems."""

    products: tuple[ProductUsage, ...] = ()
    bundled_products: tuple[BundledProductUsage, ...] = ()
    services: tuple[ServiceUsage, ...] = ()
    incomplete_annotations: tuple[PodProblems, ...] = ()
    unmeasured_metrics: tuple[UnmeasuredProduct, ...] = ()
    unknown_nodes: tuple[UnknownNode, ...] = ()
    warnings: tuple[str, ...] = ()
