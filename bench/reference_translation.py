"""The reference translation of Kubernetes JSON into the metering projection, for benchmarks.

Until the reshaping of issue 10 this was ``cluster/kubernetes_json.py``, the dict way
the collector fell back to: ``json.loads`` of a whole object, then the few fields the
rules read. The service now has one decoder (``cluster.decoding``); this copy stays
as the yardstick of ``bench.decode_limits`` (the "dict path" figures) and of the
tests that hold the decoder equal to it on generated clusters and arbitrary JSON.

Pods, nodes and namespaces arrive as the API server and ``kubectl`` write them
(nested dicts: ``metadata``, ``spec``, ``status``, ``managedFields`` and the rest).
Only the fields the rules read survive: a pod's namespace, name, node, phase,
license annotations (``LICENSE_ANNOTATIONS``) and the CPU limit of each container
and restartable init container; a node's CPU capacity, allocatable CPU and PVU
label; a namespace's name, uid and labels.

An object that cannot be a valid Kubernetes object (no ``metadata.name``,
``spec.containers`` not a list, a name holding a control character, ...) raises
``InputError`` naming the object and the field. Values the API always writes as
strings are accepted as JSON numbers too (hand-written dumps): ``cpu: 2`` and
``cpu: 0.5`` become ``"2"`` and ``"0.5"``.
Whether a CPU quantity is valid is for the rules to judge, not this module.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Final, cast

from license_service.errors import InputError
from license_service.formats.unsafe_characters import first_unsafe_character
from license_service.message_values import quoted
from license_service.metering.cluster_view import (
    LICENSE_ANNOTATIONS,
    POD_TEMPLATE_HASH_LABEL,
    PVU_PER_CORE_LABEL,
    Container,
    Controller,
    Namespace,
    Node,
    Pod,
)

_SIDECAR_RESTART_POLICY: Final = "Always"

JsonObject = Mapping[str, object]


def pod_from_json(obj: object) -> Pod:
    """Decode a Pod; ``running`` is ``status.phase == "Running"``, sidecars count as containers."""
    pod = _object(obj, "Pod")
    metadata = _section(pod, "metadata", what="Pod")
    name = _kept_name(
        _required_text(metadata, "name", what="Pod"), what="Pod", path="metadata.name"
    )
    namespace = _kept_name(
        _required_text(metadata, "namespace", what=f"Pod {quoted(name)}"),
        what=f"Pod {quoted(name)}",
        path="metadata.namespace",
    )
    what = f"Pod {namespace}/{name}"
    spec = _section(pod, "spec", what=what)
    status = _section(pod, "status", what=what)
    containers = [
        *_containers(spec, "containers", what=what, required=True),
        *_containers(spec, "initContainers", what=what, required=False, sidecars_only=True),
    ]
    return Pod(
        namespace=namespace,
        name=name,
        node_name=_kept_name(
            _optional_text(spec, "nodeName", what=what, path="spec.nodeName") or "",
            what=what,
            path="spec.nodeName",
        ),
        containers=tuple(containers),
        annotations=_string_map(metadata, "annotations", what=what, keep=LICENSE_ANNOTATIONS),
        running=status.get("phase") == "Running",
        controller=_controller(metadata, what=what),
    )


def _controller(metadata: JsonObject, *, what: str) -> Controller | None:
    """The first owner reference with ``controller: true``, with the pod-template-hash label."""
    owners = metadata.get("ownerReferences")
    if owners is None:
        return None
    if not isinstance(owners, list):
        raise InputError(
            f"{what}: metadata.ownerReferences is {describe_json_type(owners)}, not a list"
        )
    for index, owner in enumerate(owners):
        where = f"metadata.ownerReferences[{index}]"
        if not isinstance(owner, Mapping):
            raise InputError(f"{what}: {where} is {describe_json_type(owner)}, not an object")
        if owner.get("controller") is not True:
            continue
        kind, name = (
            _required_owner_text(owner, key, what=what, path=f"{where}.{key}")
            for key in ("kind", "name")
        )
        _kept_name(kind, what=what, path=f"{where}.kind")
        _kept_name(name, what=what, path=f"{where}.name")
        labels = _string_map(
            metadata, "labels", what=what, keep=frozenset({POD_TEMPLATE_HASH_LABEL})
        )
        template_hash = labels.get(POD_TEMPLATE_HASH_LABEL, "")
        _kept_name(template_hash, what=what, path=f"metadata.labels[{POD_TEMPLATE_HASH_LABEL}]")
        return Controller(kind, name, template_hash)
    return None


def node_from_json(obj: object) -> Node:
    """Decode a Node: ``status.capacity.cpu``, ``status.allocatable.cpu`` and its PVU label."""
    node = _object(obj, "Node")
    metadata = _section(node, "metadata", what="Node")
    name = _kept_name(
        _required_text(metadata, "name", what="Node"), what="Node", path="metadata.name"
    )
    what = f"Node {name}"
    status = _section(node, "status", what=what)
    capacity = _section(status, "capacity", what=what, path="status.capacity")
    allocatable = _section(status, "allocatable", what=what, path="status.allocatable")
    labels = _string_map(metadata, "labels", what=what, keep=frozenset({PVU_PER_CORE_LABEL}))
    return Node(
        name=name,
        cpu_capacity=_optional_text(capacity, "cpu", what=what, path="status.capacity.cpu"),
        cpu_allocatable=_optional_text(
            allocatable, "cpu", what=what, path="status.allocatable.cpu"
        ),
        pvu_per_core=labels.get(PVU_PER_CORE_LABEL),
    )


def namespace_from_json(obj: object) -> Namespace:
    """Decode a Namespace: its name, uid and labels."""
    namespace = _object(obj, "Namespace")
    metadata = _section(namespace, "metadata", what="Namespace")
    name = _kept_name(
        _required_text(metadata, "name", what="Namespace"), what="Namespace", path="metadata.name"
    )
    what = f"Namespace {name}"
    uid = _optional_text(metadata, "uid", what=what, path="metadata.uid") or ""
    return Namespace(
        name=name,
        uid=_kept_name(uid, what=what, path="metadata.uid"),
        labels=_string_map(metadata, "labels", what=what),
    )


def _required_owner_text(owner: JsonObject, key: str, *, what: str, path: str) -> str:
    value = _optional_text(owner, key, what=what, path=path)
    if not value:
        raise InputError(f"{what} has no {path}; objects written by kubectl always have one")
    return value


def _object(obj: object, kind: str) -> JsonObject:
    if not isinstance(obj, Mapping):
        raise InputError(f"a {kind} must be a JSON object, got {describe_json_type(obj)}")
    # Items of a typed list (PodList) from the API carry no kind; kubectl adds it.
    found = obj.get("kind")
    if found is not None and found != kind:
        raise InputError(f"expected a {kind}, got an object of kind {quoted(found)}")
    return cast(JsonObject, obj)


def _section(parent: JsonObject, key: str, *, what: str, path: str | None = None) -> JsonObject:
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InputError(f"{what}: {path or key} is {describe_json_type(value)}, not an object")
    return cast(JsonObject, value)


def _required_text(metadata: JsonObject, key: str, *, what: str) -> str:
    path = f"metadata.{key}"
    value = _optional_text(metadata, key, what=what, path=path)
    if not value:
        raise InputError(f"{what} has no {path}; objects written by kubectl always have one")
    return value


def _kept_name(text: str, *, what: str, path: str) -> str:
    """``text``; refused when it holds a character no kept or shown text may hold."""
    found = first_unsafe_character(text)
    if found is not None:
        raise InputError(
            f"{what}: {path} holds {found.describe()}; names written by Kubernetes never hold "
            "control characters, line separators, bidirectional controls or lone surrogates"
        )
    return text


def _optional_text(parent: JsonObject, key: str, *, what: str, path: str) -> str | None:
    """The string at ``key`` of ``parent`` (``path`` names it in errors); numbers become text."""
    value = parent.get(key)
    if value is None:
        return None
    text = _scalar_text(value)
    if text is None:
        raise InputError(f"{what}: {path} is {describe_json_type(value)}, not a string")
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


def _string_map(
    metadata: JsonObject, key: str, *, what: str, keep: frozenset[str] | None = None
) -> dict[str, str]:
    """Labels or annotations (string to string), only the keys in ``keep`` when given."""
    path = f"metadata.{key}"
    values = _section(metadata, key, what=what, path=path)
    result: dict[str, str] = {}
    for name, value in values.items():
        if keep is not None and name not in keep:
            continue
        text = _scalar_text(value)
        if text is None:
            raise InputError(
                f"{what}: {path}[{quoted(name)}] is {describe_json_type(value)}, not a string"
            )
        result[name] = text
    return result


def _containers(
    spec: JsonObject,
    key: str,
    *,
    what: str,
    required: bool,
    sidecars_only: bool = False,
) -> Iterator[Container]:
    listed = spec.get(key)
    if listed is None:
        if required:
            raise InputError(f"{what} has no spec.{key}; a pod has at least one container")
        return
    if not isinstance(listed, list):
        raise InputError(f"{what}: spec.{key} is {describe_json_type(listed)}, not a list")
    for index, item in enumerate(listed):
        where = f"spec.{key}[{index}]"
        if not isinstance(item, Mapping):
            raise InputError(f"{what}: {where} is {describe_json_type(item)}, not an object")
        container = cast(JsonObject, item)
        name = _optional_text(container, "name", what=what, path=f"{where}.name")
        if not name:
            raise InputError(f"{what}: {where} has no name")
        _kept_name(name, what=what, path=f"{where}.name")
        if sidecars_only and container.get("restartPolicy") != _SIDECAR_RESTART_POLICY:
            continue
        resources = _section(container, "resources", what=what, path=f"{where}.resources")
        limits = _section(resources, "limits", what=what, path=f"{where}.resources.limits")
        cpu = _optional_text(limits, "cpu", what=what, path=f"{where}.resources.limits.cpu")
        yield Container(name=name, cpu_limit=cpu)


def describe_json_type(value: object) -> str:
    """Name what a JSON value is, for messages: ``a list``, ``the string 'x'``, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {quoted(value)}"
    return f"the number {value}"
