"""Kubernetes JSON bytes decoded straight into the projection, by a schema of its fields only.

``json.loads`` builds every dict, list and string of a pod (managedFields, env,
probes, status...) before ``kubernetes_json`` keeps a handful: at 150,000 pods that,
not the projection, is the cost of the collector. Here ``msgspec`` decodes a list
page or a watch line with ``Struct`` types naming only the fields the projection
reads; every other field is skipped inside the decoder, without being built.

Guarantees:

- What this module returns is equal to what ``kubernetes_json`` builds from the same
  bytes (the tests compare both on generated clusters and the fixtures).
- It never guesses: whenever the bytes are not exactly the plain shape it knows (not
  UTF-8, a number where the API writes a string, a null license annotation, a missing
  name, another ``kind``, an ``ERROR`` event...), it refuses (returns ``None``) and the
  caller decodes the same bytes the ``json.loads`` + ``kubernetes_json`` way, which
  accepts what it accepts today and names what is wrong with the same message.
- Repeated parts are shared as ``projection_sharing`` shares them: namespace, node and
  container names are interned, and equal container lists and license annotations of
  different pods are one tuple and one mapping (read-only, like every projection).
  The pools are keyed by the decoded schema values, so a pod of a known workload costs
  a dict lookup instead of building its containers; they are emptied when they reach
  ``max_entries``. One decoder per thread: it is not thread-safe.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any, Final, Generic, NamedTuple, TypeVar

import msgspec
from msgspec import UNSET, UnsetType

from license_service.metering.cluster_view import (
    LICENSE_ANNOTATIONS,
    PVU_PER_CORE_LABEL,
    Container,
    Namespace,
    Node,
    Pod,
)

ObjectKey = tuple[str, str]
"""(namespace, name) of an object; the namespace is ``""`` for nodes and namespaces."""

DEFAULT_MAX_ENTRIES: Final = 100_000
_SIDECAR_RESTART_POLICY: Final = "Always"
_PUT_EVENTS: Final = frozenset({"ADDED", "MODIFIED"})
_NO_ANNOTATIONS: Final[Mapping[str, str]] = {}
_REFUSED: Final = (msgspec.DecodeError, msgspec.ValidationError)

# -- the schema: only the fields the projection reads, named as the API names them ---------
# Frozen (hashable: equal parts of different pods share one projection) and untracked
# by the garbage collector (gc=False: these are never part of a cycle).


class _Limits(msgspec.Struct, frozen=True, gc=False):
    cpu: str | None = None


class _Resources(msgspec.Struct, frozen=True, gc=False):
    limits: _Limits | None = None


class _ContainerJson(msgspec.Struct, frozen=True, gc=False):
    name: str | None = None
    resources: _Resources | None = None
    restartPolicy: str | None = None


class _PodSpec(msgspec.Struct, frozen=True, gc=False):
    containers: tuple[_ContainerJson, ...] | None = None
    initContainers: tuple[_ContainerJson, ...] | None = None
    nodeName: str | None = None


# A null license annotation is an error for kubernetes_json: UNSET (absent) is the
# only default, so null makes the schema refuse the pod.
_LicenseAnnotations = msgspec.defstruct(
    "_LicenseAnnotations",
    [(name, str | UnsetType, UNSET) for name in sorted(LICENSE_ANNOTATIONS)],
    frozen=True,
    gc=False,
)
_ANNOTATION_NAMES: Final = tuple(sorted(LICENSE_ANNOTATIONS))


class _PodMetadata(msgspec.Struct, frozen=True, gc=False):
    name: str | None = None
    namespace: str | None = None
    annotations: _LicenseAnnotations | None = None  # type: ignore[valid-type]
    resourceVersion: str | None = None


class _PodStatus(msgspec.Struct, frozen=True, gc=False):
    phase: str | None = None


class _PodJson(msgspec.Struct, frozen=True, gc=False):
    kind: str | None = None
    metadata: _PodMetadata | None = None
    spec: _PodSpec | None = None
    status: _PodStatus | None = None


class _NodeLabels(msgspec.Struct, frozen=True, gc=False):
    pvu_per_core: str | UnsetType = msgspec.field(default=UNSET, name=PVU_PER_CORE_LABEL)


class _NodeMetadata(msgspec.Struct, frozen=True, gc=False):
    name: str | None = None
    namespace: str | None = None  # never sent for a node; read as key_of_json reads it
    labels: _NodeLabels | None = None
    resourceVersion: str | None = None


class _Cpu(msgspec.Struct, frozen=True, gc=False):
    cpu: str | None = None


class _NodeStatus(msgspec.Struct, frozen=True, gc=False):
    capacity: _Cpu | None = None
    allocatable: _Cpu | None = None


class _NodeJson(msgspec.Struct, frozen=True, gc=False):
    kind: str | None = None
    metadata: _NodeMetadata | None = None
    status: _NodeStatus | None = None


class _NamespaceMetadata(msgspec.Struct, frozen=True, gc=False):
    name: str | None = None
    namespace: str | None = None  # never sent for a namespace; read as key_of_json reads it
    uid: str | None = None
    labels: dict[str, str] | None = None
    resourceVersion: str | None = None


class _NamespaceJson(msgspec.Struct, frozen=True, gc=False):
    kind: str | None = None
    metadata: _NamespaceMetadata | None = None


class _ListMetadata(msgspec.Struct, frozen=True, gc=False):
    resourceVersion: str | None = None
    continue_: str | None = msgspec.field(default=None, name="continue")


_Json = TypeVar("_Json")
_Projection_co = TypeVar("_Projection_co", bound=Pod | Node | Namespace, covariant=True)


class _Page(msgspec.Struct, Generic[_Json], gc=False):
    metadata: _ListMetadata | None = None
    items: list[_Json] | None = None


class _Event(msgspec.Struct, Generic[_Json], gc=False):
    type: str | None = None
    object: _Json | None = None


# -- what the decoder hands out ------------------------------------------------------------


class TypedPage(NamedTuple, Generic[_Projection_co]):
    """One list page: its objects by key, its resourceVersion and continue token."""

    objects: list[tuple[ObjectKey, _Projection_co]]
    resource_version: str
    continue_token: str | None


class TypedEvent(NamedTuple, Generic[_Projection_co]):
    """One watch event.

    ``key`` and ``projection``: for ADDED and MODIFIED the object's; for DELETED its
    key and ``None``; for any other type (BOOKMARK) both ``None``.
    ``resource_version`` is the object's (``None`` when it has none).
    """

    type: str
    key: ObjectKey | None
    projection: _Projection_co | None
    resource_version: str | None


class TypedDecoder(Generic[_Projection_co]):
    """Decodes the list pages and watch lines of one resource; ``None`` means "refused"."""

    def __init__(
        self,
        schema: type[_PodJson | _NodeJson | _NamespaceJson],
        *,
        project: Callable[[_Pools, Any], _Projection_co | None],
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        self._pages = msgspec.json.Decoder(_Page[schema])  # type: ignore[valid-type]
        self._events = msgspec.json.Decoder(_Event[schema])  # type: ignore[valid-type]
        self._project: Callable[[_Pools, Any], _Projection_co | None] = project
        self._pools = _Pools(max_entries)

    def page(self, body: bytes) -> TypedPage[_Projection_co] | None:
        """The objects of one list page, or ``None`` if any part of it is refused."""
        try:
            page = self._pages.decode(body)
        except _REFUSED:
            return None
        metadata = page.metadata
        if metadata is None or not metadata.resourceVersion:
            return None
        objects: list[tuple[ObjectKey, _Projection_co]] = []
        project, pools = self._project, self._pools
        for item in page.items or ():
            projection = project(pools, item)
            if projection is None:
                return None
            objects.append((_key(projection), projection))
        return TypedPage(objects, metadata.resourceVersion, metadata.continue_ or None)

    def event(self, line: bytes) -> TypedEvent[_Projection_co] | None:
        """One watch line, or ``None`` if refused (also every ERROR event: it is no object)."""
        try:
            event = self._events.decode(line)
        except _REFUSED:
            return None
        event_type, obj = event.type, event.object
        if event_type is None or obj is None or event_type == "ERROR":
            return None
        version = obj.metadata.resourceVersion if obj.metadata is not None else None
        if event_type in _PUT_EVENTS:
            projection = self._project(self._pools, obj)
            if projection is None:
                return None
            return TypedEvent(event_type, _key(projection), projection, version or None)
        key = _json_key(obj) if event_type == "DELETED" else None
        return TypedEvent(event_type, key, None, version or None)


def pod_decoder(*, max_entries: int = DEFAULT_MAX_ENTRIES) -> TypedDecoder[Pod]:
    """A decoder of pod pages and pod watch lines."""
    return TypedDecoder(_PodJson, project=_pod, max_entries=max_entries)


def node_decoder(*, max_entries: int = DEFAULT_MAX_ENTRIES) -> TypedDecoder[Node]:
    """A decoder of node pages and node watch lines."""
    return TypedDecoder(_NodeJson, project=_node, max_entries=max_entries)


def namespace_decoder(*, max_entries: int = DEFAULT_MAX_ENTRIES) -> TypedDecoder[Namespace]:
    """A decoder of namespace pages and namespace watch lines."""
    return TypedDecoder(_NamespaceJson, project=_namespace, max_entries=max_entries)


def typed_decoder(kind: str) -> TypedDecoder[Pod | Node | Namespace]:
    """A new decoder for ``kind`` (``Pod``, ``Node`` or ``Namespace``)."""
    if kind == "Pod":
        return pod_decoder()
    if kind == "Node":
        return node_decoder()
    if kind == "Namespace":
        return namespace_decoder()
    raise ValueError(f"no typed decoder for kind {kind!r}; there are Pod, Node and Namespace")


# -- from the schema to the projection -----------------------------------------------------


class _Pools:
    """Shared parts, keyed by the schema values they were built from; emptied when full."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self.entries: dict[object, object] = {}

    def remember(self, key: object, value: object) -> None:
        if len(self.entries) >= self.max_entries:
            self.entries.clear()
        self.entries[key] = value


def _key(projection: Pod | Node | Namespace) -> ObjectKey:
    if isinstance(projection, Pod):
        return (projection.namespace, projection.name)
    return ("", projection.name)


def _json_key(obj: _PodJson | _NodeJson | _NamespaceJson) -> ObjectKey | None:
    """The key of a deleted object, as ``resource_kinds.key_of_json`` reads it."""
    metadata = obj.metadata
    if metadata is None or not metadata.name:
        return None
    return (metadata.namespace or "", metadata.name)


def _pod(pools: _Pools, item: _PodJson) -> Pod | None:
    metadata, spec, status = item.metadata, item.spec, item.status
    if (
        (item.kind is not None and item.kind != "Pod")
        or metadata is None
        or not metadata.name
        or not metadata.namespace
        or spec is None
    ):
        return None
    key = (spec.containers, spec.initContainers)
    containers = pools.entries.get(key)
    if containers is None:
        containers = _containers(spec)
        if containers is None:
            return None
        pools.remember(key, containers)
    annotations = metadata.annotations
    if annotations is None:
        shared_annotations: object = _NO_ANNOTATIONS
    else:
        shared_annotations = pools.entries.get(annotations)
        if shared_annotations is None:
            shared_annotations = _license_annotations(annotations)
            pools.remember(annotations, shared_annotations)
    return Pod(
        namespace=sys.intern(metadata.namespace),
        name=metadata.name,
        node_name=sys.intern(spec.nodeName) if spec.nodeName else "",
        containers=containers,  # type: ignore[arg-type]
        annotations=shared_annotations,  # type: ignore[arg-type]
        running=status is not None and status.phase == "Running",
    )


def _containers(spec: _PodSpec) -> tuple[Container, ...] | None:
    """Containers and restartable init containers; ``None`` when one has no name."""
    if spec.containers is None:
        return None
    result: list[Container] = []
    for container in spec.containers:
        if not container.name:
            return None
        result.append(Container(sys.intern(container.name), _cpu_limit(container)))
    for container in spec.initContainers or ():
        if not container.name:
            return None
        if container.restartPolicy == _SIDECAR_RESTART_POLICY:
            result.append(Container(sys.intern(container.name), _cpu_limit(container)))
    return tuple(result)


def _cpu_limit(container: _ContainerJson) -> str | None:
    resources = container.resources
    limits = resources.limits if resources is not None else None
    cpu = limits.cpu if limits is not None else None
    return sys.intern(cpu) if cpu is not None else None


def _license_annotations(annotations: msgspec.Struct) -> Mapping[str, str]:
    values = msgspec.structs.astuple(annotations)
    found = {
        name: value
        for name, value in zip(_ANNOTATION_NAMES, values, strict=True)
        if value is not UNSET
    }
    return found or _NO_ANNOTATIONS


def _node(_pools: _Pools, item: _NodeJson) -> Node | None:
    metadata, status = item.metadata, item.status
    if (item.kind is not None and item.kind != "Node") or metadata is None or not metadata.name:
        return None
    capacity = status.capacity if status is not None else None
    allocatable = status.allocatable if status is not None else None
    pvu = metadata.labels.pvu_per_core if metadata.labels is not None else UNSET
    return Node(
        name=sys.intern(metadata.name),
        cpu_capacity=_interned(capacity.cpu if capacity is not None else None),
        cpu_allocatable=_interned(allocatable.cpu if allocatable is not None else None),
        pvu_per_core=_interned(pvu if isinstance(pvu, str) else None),
    )


def _namespace(_pools: _Pools, item: _NamespaceJson) -> Namespace | None:
    metadata = item.metadata
    if (
        (item.kind is not None and item.kind != "Namespace")
        or metadata is None
        or not metadata.name
    ):
        return None
    return Namespace(
        name=sys.intern(metadata.name),
        uid=metadata.uid or "",
        labels=metadata.labels if metadata.labels is not None else {},
    )


def _interned(text: str | None) -> str | None:
    return None if text is None else sys.intern(text)
