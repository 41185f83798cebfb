"""From the schema's values (``object_schema``) to the metering projection, sharing repeated parts.

Only what the rules read survives: a pod's namespace, name, node, phase, license
annotations, controller (owner reference and ``pod-template-hash`` label, shared by
replicas) and the CPU limit of each container and restartable init container; a
node's CPU capacity, allocatable CPU and PVU label; a namespace's name, uid and labels.

Guarantees:

- A value the API always writes as a string is accepted as a number too (hand-written
  dumps): ``cpu: 2`` becomes ``"2"``, ``0.5`` (a float) ``"0.5"``, a ``Decimal``
  keeps its text. Whether a quantity is valid is for the rules to judge, not this module.
- Anything else where text belongs (a boolean, a list, an object, a null annotation
  or label) raises ``InputError`` naming the object and the field:
  ``Pod cp4i/web-0: spec.containers[1].resources.limits.cpu is the boolean true,
  not a string``. So does an object without ``metadata.name`` (a pod without
  ``metadata.namespace`` or ``spec.containers``), or of another ``kind``.
- Names (of the pod, its namespace, node and containers, of nodes and namespaces) and
  a namespace's uid (the cluster id) are checked here, once, for what the store and
  the outputs cannot hold (``formats.unsafe_characters``): the API server never
  writes such a name, so an object holding one (a tampered dump) is refused naming
  the field and the character, never showing the name. Annotation values are checked
  where they are read (``metering.declarations``), so that such a pod is listed with
  the problem rather than left out.
- Repeated parts are stored once (``SharedParts``): namespace, node and container
  names and CPU limits are interned; equal container tuples and license annotation
  mappings of different pods are one tuple and one mapping (read-only, like every
  projection). The pool is keyed by the schema values, so a pod of a known workload
  costs a dict look-up instead of building its containers; only parts made of plain
  strings are pooled (``1`` and ``true`` compare equal in Python, ``"1"`` does not),
  and the pool is emptied when it reaches ``MAX_SHARED_PARTS`` entries. Not
  thread-safe: one pool per decoder, one decoder per thread.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

import msgspec
from msgspec import UNSET

from license_service.cluster.object_schema import (
    ANNOTATION_NAMES,
    ContainerJson,
    NamespaceJson,
    NodeJson,
    OwnerReferenceJson,
    PodJson,
    PodSpecJson,
)
from license_service.errors import InputError
from license_service.formats.unsafe_characters import first_unsafe_character
from license_service.message_values import quoted
from license_service.metering.cluster_view import (
    POD_TEMPLATE_HASH_LABEL,
    PVU_PER_CORE_LABEL,
    Container,
    Controller,
    Namespace,
    Node,
    Pod,
)

MAX_SHARED_PARTS: Final = 100_000
"""How many shared parts a pool holds before it starts over (a few per workload)."""

_SIDECAR_RESTART_POLICY: Final = "Always"
_NO_ANNOTATIONS: Final[Mapping[str, str]] = {}
_KUBECTL_ALWAYS: Final = "objects written by kubectl always have one"


class SharedParts:
    """Parts of projections already built, keyed by the schema values they were built from."""

    def __init__(self, max_entries: int = MAX_SHARED_PARTS) -> None:
        self._max_entries = max_entries
        self._entries: dict[object, object] = {}

    def get(self, key: object) -> Any:
        """The part built from ``key``, or ``None`` (also when ``key`` holds a list or object)."""
        try:
            return self._entries.get(key)
        except TypeError:  # unhashable: a list or object where text belongs
            return None

    def remember(self, key: object, part: object) -> None:
        """Keep ``part`` for ``key``; start over when full, so churn cannot grow the pool."""
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        with contextlib.suppress(TypeError):  # unhashable: a list or object, nothing to share
            self._entries[key] = part


def project_pod(shared: SharedParts, pod: PodJson) -> Pod:
    """The projection of a pod; ``running`` is ``status.phase == "Running"``."""
    kind = pod.kind
    if kind is not None and kind != "Pod":
        raise InputError(f"expected a Pod, got an object of kind {quoted(kind)}")
    metadata, spec, status = pod.metadata, pod.spec, pod.status
    name = metadata.name if metadata is not None else None
    if type(name) is not str or not name:
        name = _required_text(name, what="Pod", path="metadata.name")
    if not (name.isascii() and name.isprintable()):  # inlined: this runs for every pod
        _kept_name(name, what="Pod", path="metadata.name")
    namespace = metadata.namespace if metadata is not None else None
    if type(namespace) is not str or not namespace:
        namespace = _required_text(namespace, what=f"Pod {quoted(name)}", path="metadata.namespace")
    if not (namespace.isascii() and namespace.isprintable()):
        _kept_name(namespace, what=f"Pod {quoted(name)}", path="metadata.namespace")
    if spec is None or spec.containers is None:
        raise InputError(
            f"Pod {namespace}/{name} has no spec.containers; a pod has at least one container"
        )
    key = (spec.containers, spec.initContainers)
    containers = shared.get(key)
    if containers is None:
        containers, plain = _containers(spec, what=f"Pod {namespace}/{name}")
        if plain:
            shared.remember(key, containers)
    node_name = spec.nodeName
    if node_name is None:
        node_name = ""
    elif type(node_name) is str:
        if not (node_name.isascii() and node_name.isprintable()):
            _kept_name(node_name, what=f"Pod {namespace}/{name}", path="spec.nodeName")
        node_name = sys.intern(node_name)
    else:
        node_name = _text(node_name, what=f"Pod {namespace}/{name}", path="spec.nodeName")
    annotations = metadata.annotations if metadata is not None else None
    if annotations is None:
        shared_annotations: Mapping[str, str] = _NO_ANNOTATIONS
    else:
        shared_annotations = shared.get(annotations)
        if shared_annotations is None:
            shared_annotations, plain = _license_annotations(
                annotations, what=f"Pod {namespace}/{name}"
            )
            if plain:
                shared.remember(annotations, shared_annotations)
    owners = metadata.ownerReferences if metadata is not None else None
    return Pod(
        namespace=sys.intern(namespace),
        name=name,
        node_name=node_name or "",
        containers=containers,
        annotations=shared_annotations,
        running=status is not None and status.phase == "Running",
        controller=_shared_controller(shared, metadata, namespace=namespace, name=name)
        if owners
        else None,
    )


def project_node(_shared: SharedParts, node: NodeJson) -> Node:
    """The projection of a node: ``status.capacity.cpu``, ``status.allocatable.cpu``, PVU label."""
    metadata, status = node.metadata, node.status
    name = _cluster_scoped_name(node.kind, metadata, kind="Node")
    capacity = status.capacity if status is not None else None
    allocatable = status.allocatable if status is not None else None
    labels = metadata.labels if metadata is not None else None
    pvu = labels.pvu_per_core if labels is not None else UNSET
    what = f"Node {name}"
    return Node(
        name=sys.intern(name),
        cpu_capacity=_interned_text(
            capacity.cpu if capacity is not None else None,
            what=what,
            path="status.capacity.cpu",
        ),
        cpu_allocatable=_interned_text(
            allocatable.cpu if allocatable is not None else None,
            what=what,
            path="status.allocatable.cpu",
        ),
        pvu_per_core=(
            None
            if pvu is UNSET
            else sys.intern(
                _map_text(pvu, what=what, path="metadata.labels", key=PVU_PER_CORE_LABEL)
            )
        ),
    )


def project_namespace(_shared: SharedParts, namespace: NamespaceJson) -> Namespace:
    """The projection of a namespace: its name, uid and labels."""
    metadata = namespace.metadata
    name = _cluster_scoped_name(namespace.kind, metadata, kind="Namespace")
    uid = metadata.uid if metadata is not None else None
    labels = metadata.labels if metadata is not None else None
    what = f"Namespace {name}"
    if type(uid) is not str:
        uid = _text(uid, what=what, path="metadata.uid")
    if uid:  # the uid of kube-system is the cluster id, kept in every stored row
        _kept_name(uid, what=what, path="metadata.uid")
    if labels is None:
        labels = {}
    elif not all(type(value) is str for value in labels.values()):
        labels = {
            key: _map_text(value, what=what, path="metadata.labels", key=key)
            for key, value in labels.items()
        }
    return Namespace(name=sys.intern(name), uid=uid or "", labels=labels)


def _cluster_scoped_name(found_kind: object, metadata: Any, *, kind: str) -> str:
    """The name of a node or namespace, checked: of ``kind``, present, and safe to keep."""
    if found_kind is not None and found_kind != kind:
        raise InputError(f"expected a {kind}, got an object of kind {quoted(found_kind)}")
    name = metadata.name if metadata is not None else None
    if type(name) is not str or not name:
        name = _required_text(name, what=kind, path="metadata.name")
    _kept_name(name, what=kind, path="metadata.name")
    return name


def describe_json_type(value: object) -> str:
    """Name what a JSON value is, for messages: ``a list``, ``the string 'x'``, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return f"the string {quoted(value)}"
    return f"the number {value}"


# -- parts -------------------------------------------------------------------------------


def _containers(spec: PodSpecJson, *, what: str) -> tuple[tuple[Container, ...], bool]:
    """Containers and restartable init containers; whether every value was plain text."""
    result: list[Container] = []
    plain = True
    for index, container in enumerate(spec.containers or ()):
        where = f"spec.containers[{index}]"
        result.append(_container(container, what=what, where=where))
        plain = plain and _plain_container(container)
    for index, container in enumerate(spec.initContainers or ()):
        where = f"spec.initContainers[{index}]"
        name = _text(container.name, what=what, path=f"{where}.name")
        if not name:
            raise InputError(f"{what}: {where} has no name")
        _kept_name(name, what=what, path=f"{where}.name")
        if container.restartPolicy == _SIDECAR_RESTART_POLICY:
            result.append(_container(container, what=what, where=where))
        plain = plain and _plain_container(container)
    return tuple(result), plain


def _container(container: ContainerJson, *, what: str, where: str) -> Container:
    name = _text(container.name, what=what, path=f"{where}.name")
    if not name:
        raise InputError(f"{what}: {where} has no name")
    _kept_name(name, what=what, path=f"{where}.name")
    resources = container.resources
    limits = resources.limits if resources is not None else None
    cpu = _interned_text(
        limits.cpu if limits is not None else None,
        what=what,
        path=f"{where}.resources.limits.cpu",
    )
    return Container(sys.intern(name), cpu)


def _shared_controller(
    shared: SharedParts, metadata: Any, *, namespace: str, name: str
) -> Controller | None:
    """The pod's controller; replicas share one ``Controller`` per (owners, hash label)."""
    owners = metadata.ownerReferences
    labels = metadata.labels
    template_hash = labels.pod_template_hash if labels is not None else UNSET
    key = (owners, template_hash)
    controller: Controller | None = shared.get(key)
    if controller is None:
        controller = _controller(owners, template_hash, what=f"Pod {namespace}/{name}")
        shared.remember(key, controller)
    return controller


def _controller(
    owners: tuple[OwnerReferenceJson, ...], template_hash: object, *, what: str
) -> Controller | None:
    """The owner reference with ``controller: true`` (the first), or ``None``."""
    for index, owner in enumerate(owners):
        if owner.controller is not True:
            continue
        where = f"metadata.ownerReferences[{index}]"
        kind = _required_text(owner.kind, what=what, path=f"{where}.kind")
        name = _required_text(owner.name, what=what, path=f"{where}.name")
        _kept_name(kind, what=what, path=f"{where}.kind")
        _kept_name(name, what=what, path=f"{where}.name")
        hash_text = (
            ""
            if template_hash is UNSET
            else _map_text(
                template_hash, what=what, path="metadata.labels", key=POD_TEMPLATE_HASH_LABEL
            )
        )
        _kept_name(hash_text, what=what, path=f"metadata.labels[{POD_TEMPLATE_HASH_LABEL}]")
        return Controller(sys.intern(kind), sys.intern(name), sys.intern(hash_text))
    return None


def _plain_container(container: ContainerJson) -> bool:
    resources = container.resources
    limits = resources.limits if resources is not None else None
    cpu = limits.cpu if limits is not None else None
    return type(container.name) is str and (cpu is None or type(cpu) is str)


def _license_annotations(
    annotations: msgspec.Struct, *, what: str
) -> tuple[Mapping[str, str], bool]:
    """The license annotations present; whether every value was plain text."""
    found: dict[str, str] = {}
    plain = True
    for name, value in zip(ANNOTATION_NAMES, msgspec.structs.astuple(annotations), strict=True):
        if value is UNSET:
            continue
        plain = plain and type(value) is str
        found[name] = _map_text(value, what=what, path="metadata.annotations", key=name)
    return (found or _NO_ANNOTATIONS), plain


# -- leaves ------------------------------------------------------------------------------


def _required_text(value: object, *, what: str, path: str) -> str:
    text = _text(value, what=what, path=path)
    if not text:
        raise InputError(f"{what} has no {path}; {_KUBECTL_ALWAYS}")
    return text


def _kept_name(text: str, *, what: str, path: str) -> None:
    """Refuse a name holding a character no kept or shown text may hold (``InputError``)."""
    found = first_unsafe_character(text)
    if found is not None:
        raise InputError(
            f"{what}: {path} holds {found.describe()}; names written by Kubernetes never hold "
            "control characters, line separators, bidirectional controls or lone surrogates"
        )


def _text(value: object, *, what: str, path: str) -> str | None:
    """The text at ``path`` (``None`` when absent or null); a number becomes its text."""
    if value is None or type(value) is str:
        return value
    text = _scalar_text(value)
    if text is None:
        raise InputError(f"{what}: {path} is {describe_json_type(value)}, not a string")
    return text


def _interned_text(value: object, *, what: str, path: str) -> str | None:
    text = _text(value, what=what, path=path)
    return None if text is None else sys.intern(text)


def _map_text(value: object, *, what: str, path: str, key: str) -> str:
    """An annotation or label value: text, or a number as text; null is refused too."""
    if type(value) is str:
        return value
    text = _scalar_text(value)
    if text is None:
        raise InputError(
            f"{what}: {path}[{quoted(key)}] is {describe_json_type(value)}, not a string"
        )
    return text


def _scalar_text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return None  # true/false are not quantities, names or annotation values
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return None
