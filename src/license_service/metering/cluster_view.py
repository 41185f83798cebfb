"""The projection of a cluster that the metering rules read (SPEC 2.1).

Only the fields the rules need are kept: sources decode Kubernetes objects
straight into these small frozen values and never hold whole objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, NewType

if TYPE_CHECKING:
    from license_service.metering.explanation_cells import Cells

ClusterId = NewType("ClusterId", str)
"""A stable identifier of the measured cluster (default: the UID of ``kube-system``)."""

# The pod annotations the rules read (SPEC 2.2); sources keep only these.
LICENSE_ANNOTATIONS: Final = frozenset(
    {
        "productID",
        "productName",
        "productMetric",
        "productVersion",
        "productChargedContainers",
        "productCloudpakRatio",
        "cloudpakId",
        "cloudpakName",
        "cloudpakVersion",
        "cloudpakMetric",
        "serviceId",
        "serviceName",
    }
)

PVU_PER_CORE_LABEL: Final = "license-service/pvu-per-core"
POD_TEMPLATE_HASH_LABEL: Final = "pod-template-hash"


@dataclass(frozen=True, slots=True)
class Container:
    """A container of a running pod: its name and CPU limit as written in the pod spec.

    ``cpu_limit`` is the raw quantity string, ``None`` when the container has no
    CPU limit. Restartable init containers ("sidecars") are listed like ordinary
    containers; other init containers are not listed at all.
    """

    name: str
    cpu_limit: str | None = None


@dataclass(frozen=True, slots=True)
class Controller:
    """A pod's controller: its ``ownerReferences`` entry with ``controller: true``.

    ``pod_template_hash`` is the pod's ``pod-template-hash`` label ("" when absent),
    which tells a Deployment's ReplicaSet from a bare one (SPEC 9). Replicas share one
    ``Controller`` value.
    """

    kind: str
    name: str
    pod_template_hash: str = ""


@dataclass(frozen=True, slots=True)
class Pod:
    """A pod as the rules see it; ``annotations`` holds only ``LICENSE_ANNOTATIONS`` keys.

    ``controller`` is ``None`` for a pod without a controller (its own workload).
    """

    namespace: str
    name: str
    node_name: str
    containers: tuple[Container, ...]
    annotations: Mapping[str, str] = field(default_factory=dict)
    running: bool = True
    controller: Controller | None = None


@dataclass(frozen=True, slots=True)
class Node:
    """A node: CPU capacity and allocatable as quantity strings, and its PVU rating label."""

    name: str
    cpu_capacity: str | None
    cpu_allocatable: str | None = None
    pvu_per_core: str | None = None


@dataclass(frozen=True, slots=True)
class Namespace:
    """A namespace with its labels (kept for reports that group by namespace)."""

    name: str
    uid: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ClusterView:
    """Everything the rules read about a cluster at one instant.

    ``cells``: the pods counted for usage explanations (SPEC 9) by a source that keeps
    them pod by pod (the collector), as of this view; ``None``: count them when needed.
    """

    pods: tuple[Pod, ...] = ()
    nodes: tuple[Node, ...] = ()
    namespaces: tuple[Namespace, ...] = ()
    cells: Cells | None = field(default=None, compare=False, repr=False)
