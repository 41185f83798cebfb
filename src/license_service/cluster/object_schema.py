"""The fields of pods, nodes and namespaces the projection reads, as msgspec ``Struct`` types.

This is the one description of what License Service reads of a Kubernetes object:
``decoding`` decodes API bytes (list pages, watch lines) and Python values (dump
files, JSON or YAML) into these types, and ``projections`` turns them into
``metering.cluster_view`` values. Every field not named here is skipped by msgspec
without being built: the kilobytes of managedFields, env, probes and status a pod
carries cost nothing but the scan.

The schema checks the shape (an object where an object belongs, a list where a list
belongs); the values the projection keeps (names, CPU quantities, annotations,
labels) are typed ``Any`` so that ``projections`` can accept a number where the API
writes a string (hand-written dumps: ``cpu: 2``) and name the field of anything else.

Fields are named as the API names them (``restartPolicy``). The types are frozen
(hashable: equal parts of different pods share one projection) and untracked by the
garbage collector (``gc=False``: decoded JSON has no cycles).
"""

from __future__ import annotations

from typing import Any, Final, Generic, TypeVar

import msgspec
from msgspec import UNSET

from license_service.metering.cluster_view import (
    LICENSE_ANNOTATIONS,
    POD_TEMPLATE_HASH_LABEL,
    PVU_PER_CORE_LABEL,
)

ANNOTATION_NAMES: Final = tuple(sorted(LICENSE_ANNOTATIONS))
"""The license annotations, in the order of the fields of ``LicenseAnnotationsJson``."""


class LimitsJson(msgspec.Struct, frozen=True, gc=False):
    """``resources.limits`` of a container."""

    cpu: Any = None


class ResourcesJson(msgspec.Struct, frozen=True, gc=False):
    """``resources`` of a container."""

    limits: LimitsJson | None = None


class ContainerJson(msgspec.Struct, frozen=True, gc=False):
    """One entry of ``spec.containers`` or ``spec.initContainers``."""

    name: Any = None
    resources: ResourcesJson | None = None
    restartPolicy: Any = None


class PodSpecJson(msgspec.Struct, frozen=True, gc=False):
    """``spec`` of a pod."""

    containers: tuple[ContainerJson, ...] | None = None
    initContainers: tuple[ContainerJson, ...] | None = None
    nodeName: Any = None


# Absent annotations are UNSET, so that a null one can be told apart and refused.
LicenseAnnotationsJson = msgspec.defstruct(
    "LicenseAnnotationsJson",
    [(name, Any, UNSET) for name in ANNOTATION_NAMES],
    frozen=True,
    gc=False,
)
"""The license annotations of a pod (``LICENSE_ANNOTATIONS``); other annotations are skipped."""


class OwnerReferenceJson(msgspec.Struct, frozen=True, gc=False):
    """One entry of ``metadata.ownerReferences`` (the controller names the workload)."""

    kind: Any = None
    name: Any = None
    controller: Any = None


class PodLabelsJson(msgspec.Struct, frozen=True, gc=False):
    """The one label of a pod the explanations read (``POD_TEMPLATE_HASH_LABEL``)."""

    pod_template_hash: Any = msgspec.field(default=UNSET, name=POD_TEMPLATE_HASH_LABEL)


class PodMetadataJson(msgspec.Struct, frozen=True, gc=False):
    """``metadata`` of a pod."""

    name: Any = None
    namespace: Any = None
    annotations: LicenseAnnotationsJson | None = None  # type: ignore[valid-type]
    labels: PodLabelsJson | None = None
    ownerReferences: tuple[OwnerReferenceJson, ...] | None = None
    resourceVersion: Any = None


class PodStatusJson(msgspec.Struct, frozen=True, gc=False):
    """``status`` of a pod."""

    phase: Any = None


class PodJson(msgspec.Struct, frozen=True, gc=False):
    """A pod."""

    kind: Any = None
    metadata: PodMetadataJson | None = None
    spec: PodSpecJson | None = None
    status: PodStatusJson | None = None


class NodeLabelsJson(msgspec.Struct, frozen=True, gc=False):
    """The one label of a node the rules read (``PVU_PER_CORE_LABEL``)."""

    pvu_per_core: Any = msgspec.field(default=UNSET, name=PVU_PER_CORE_LABEL)


class NodeMetadataJson(msgspec.Struct, frozen=True, gc=False):
    """``metadata`` of a node."""

    name: Any = None
    namespace: Any = None  # never sent for a node; read for the key of a deleted one
    labels: NodeLabelsJson | None = None
    resourceVersion: Any = None


class CpuJson(msgspec.Struct, frozen=True, gc=False):
    """``status.capacity`` or ``status.allocatable`` of a node."""

    cpu: Any = None


class NodeStatusJson(msgspec.Struct, frozen=True, gc=False):
    """``status`` of a node."""

    capacity: CpuJson | None = None
    allocatable: CpuJson | None = None


class NodeJson(msgspec.Struct, frozen=True, gc=False):
    """A node."""

    kind: Any = None
    metadata: NodeMetadataJson | None = None
    status: NodeStatusJson | None = None


class NamespaceMetadataJson(msgspec.Struct, frozen=True, gc=False):
    """``metadata`` of a namespace."""

    name: Any = None
    namespace: Any = None  # never sent for a namespace; read for the key of a deleted one
    uid: Any = None
    labels: dict[str, Any] | None = None
    resourceVersion: Any = None


class NamespaceJson(msgspec.Struct, frozen=True, gc=False):
    """A namespace."""

    kind: Any = None
    metadata: NamespaceMetadataJson | None = None


ObjectJson = TypeVar("ObjectJson", PodJson, NodeJson, NamespaceJson)


class ListMetadataJson(msgspec.Struct, frozen=True, gc=False):
    """``metadata`` of a list: its resourceVersion and continue token."""

    resourceVersion: Any = None
    continue_: Any = msgspec.field(default=None, name="continue")


class PageJson(msgspec.Struct, Generic[ObjectJson], gc=False):
    """One page of a list (``PodList``...)."""

    metadata: ListMetadataJson | None = None
    items: list[ObjectJson] | None = None


class EventJson(msgspec.Struct, Generic[ObjectJson], gc=False):
    """One watch line."""

    type: Any = None
    object: ObjectJson | None = None
