"""Kubernetes JSON into the metering projection: the one decoder of pods, nodes and namespaces.

A ``ProjectionDecoder`` reads one kind of object in the three forms it arrives in,
always through the schema (``object_schema``) and the projection (``projections``):

- ``page(body)``: a list page as the API server sends it (bytes);
- ``event(line)``: one watch line (bytes);
- ``item(obj)``: one object already parsed (an item of a dump file, JSON or YAML).

Bytes are decoded by msgspec straight into the schema, skipping every other field,
and projected. When that fails (some object is malformed, or the bytes are not the
plain shape the API writes), the same bytes are parsed with ``json.loads`` and each
object goes through ``item``, so a malformed object is found, named and left out
while the others are kept.

An object that cannot be projected raises ``InputError`` from ``item``, and is
handed to ``on_refused`` by ``page`` and ``event`` (which leave it out). Its message
names the object and the field, from msgspec's validation path (``Pod cp4i/web-0:
spec.containers[0] is the string 'web', not an object``) or from the projection. A
body that is no list page, or a line that is no watch event, raises ``InputError``
(``ValueError`` when it is not JSON at all). Numbers that are not integers become
``Decimal`` in both paths, so ``cpu: 1E+3`` reads as ``"1E+3"`` as written.

One decoder per thread (its shared parts are not thread-safe).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final, Generic, NamedTuple, TypeVar

import msgspec

from license_service.cluster.object_schema import (
    EventJson,
    NamespaceJson,
    NodeJson,
    PageJson,
    PodJson,
)
from license_service.cluster.projections import (
    MAX_SHARED_PARTS,
    SharedParts,
    describe_json_type,
    project_namespace,
    project_node,
    project_pod,
)
from license_service.errors import InputError
from license_service.formats.unsafe_characters import first_unsafe_character
from license_service.message_values import quoted
from license_service.metering.cluster_view import Namespace, Node, Pod

Projection = Pod | Node | Namespace
ObjectKey = tuple[str, str]
"""(namespace, name) of an object; the namespace is ``""`` for cluster-scoped objects."""
Refused = Callable[[ObjectKey | None, InputError], None]
"""Told of each object a page or an event leaves out: its key (if it has one) and why."""

_T = TypeVar("_T")
_P = TypeVar("_P", bound=Projection)
_PUT_EVENTS: Final = frozenset({"ADDED", "MODIFIED"})
_FAST_PATH_REFUSED: Final = (msgspec.DecodeError, msgspec.ValidationError, InputError)
_VALIDATION: Final = re.compile(
    r"^Expected `(?P<expected>[^`]*)`, got `[^`]*`(?: - at `\$(?P<path>[^`]*)`)?$"
)
_KEY_NOT_TEXT: Final = re.compile(r"^Expected `str` - at `key` in `\$(?P<path>[^`]*)`$")
_PATH_STEP: Final = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


class ListPage(NamedTuple, Generic[_T]):
    """One list page: its objects with their keys, its resourceVersion and continue token."""

    objects: list[tuple[ObjectKey, _T]]
    resource_version: str
    continue_token: str | None


class WatchEvent(NamedTuple, Generic[_T]):
    """One watch event.

    ``key`` and ``object``: for ADDED and MODIFIED the object's (``object`` is ``None``
    when it was refused); for DELETED its key and ``None``; for any other type
    (BOOKMARK, ERROR) both ``None``. ``resource_version`` is the object's, if any.
    """

    type: str
    key: ObjectKey | None
    object: _T | None
    resource_version: str | None


def _ignore_refusal(key: ObjectKey | None, error: InputError) -> None:
    """The default ``on_refused``: the object is left out silently."""


class ProjectionDecoder(Generic[_P]):
    """Decodes pages, watch lines and parsed objects of one kind into projections."""

    def __init__(
        self,
        kind: str,
        *,
        schema: type[Any],
        project: Callable[[SharedParts, Any], _P],
        on_refused: Refused = _ignore_refusal,
        max_shared_parts: int = MAX_SHARED_PARTS,
    ) -> None:
        """Prefer ``pod_decoder``, ``node_decoder``, ``namespace_decoder``."""
        self.kind = kind
        self._schema = schema
        self._project: Callable[[SharedParts, Any], _P] = project
        self._on_refused = on_refused
        self._shared = SharedParts(max_shared_parts)
        self._pages = msgspec.json.Decoder(PageJson[schema], float_hook=Decimal)  # type: ignore[valid-type]
        self._events = msgspec.json.Decoder(EventJson[schema], float_hook=Decimal)  # type: ignore[valid-type]

    def item(self, obj: object) -> _P:
        """The projection of one parsed object; ``InputError`` names what is wrong with it."""
        try:
            value = msgspec.convert(obj, self._schema)
        except msgspec.ValidationError as error:
            raise InputError(_explain(error, obj, kind=self.kind)) from None
        return self._project(self._shared, value)

    def page(self, body: bytes) -> ListPage[_P]:
        """The objects of one list page; refused ones go to ``on_refused``."""
        try:
            page = self._pages.decode(body)
            metadata = page.metadata
            if metadata is None or type(metadata.resourceVersion) is not str:
                return self._parsed_page(body)
            project, shared = self._project, self._shared
            objects = []
            for item in page.items or ():
                projection = project(shared, item)
                objects.append((key_of(projection), projection))
        except _FAST_PATH_REFUSED:
            return self._parsed_page(body)
        version, token = metadata.resourceVersion, metadata.continue_
        if not version:
            return self._parsed_page(body)
        return ListPage(objects, version, token if type(token) is str and token else None)

    def event(self, line: bytes) -> WatchEvent[_P]:
        """One watch line; a refused object goes to ``on_refused`` (``object`` is ``None``)."""
        try:
            event = self._events.decode(line)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return self._parsed_event(line)
        event_type, obj = event.type, event.object
        if type(event_type) is not str or obj is None:
            return self._parsed_event(line)
        metadata = obj.metadata
        version = metadata.resourceVersion if metadata is not None else None
        version = version if type(version) is str and version else None
        if event_type in _PUT_EVENTS:
            try:
                projection = self._project(self._shared, obj)
            except InputError:
                return self._parsed_event(line)
            return WatchEvent(event_type, key_of(projection), projection, version)
        if event_type == "DELETED":
            return WatchEvent(event_type, _schema_key(obj), None, version)
        return WatchEvent(event_type, None, None, version)

    # -- the parsed path: json.loads, then each object through ``item`` ---------------------

    def _parsed_page(self, body: bytes) -> ListPage[_P]:
        document = json.loads(body, parse_float=Decimal)
        items = document.get("items") if isinstance(document, Mapping) else None
        version = resource_version_of(document)
        if version is None or not isinstance(items, list | None):
            raise InputError(
                f"the answer is not a {self.kind}List (no metadata.resourceVersion or items)"
            )
        objects = []
        for item in items or ():
            projection = self._accepted(item)
            if projection is not None:
                objects.append((key_of(projection), projection))
        metadata = document["metadata"]
        token = metadata.get("continue")
        return ListPage(objects, version, token if isinstance(token, str) and token else None)

    def _parsed_event(self, line: bytes) -> WatchEvent[_P]:
        try:
            event = json.loads(line, parse_float=Decimal)
        except ValueError as error:
            raise InputError(f"a watch line is not JSON: {error}") from None
        event_type = event.get("type") if isinstance(event, dict) else None
        obj = event.get("object") if isinstance(event, dict) else None
        if not isinstance(event_type, str) or not isinstance(obj, dict):
            raise InputError("a watch line is not a watch event")
        version = resource_version_of(obj)
        if event_type in _PUT_EVENTS:
            projection = self._accepted(obj)
            key = key_of(projection) if projection is not None else key_of_json(obj)
            return WatchEvent(event_type, key, projection, version)
        key = key_of_json(obj) if event_type == "DELETED" else None
        return WatchEvent(event_type, key, None, version)

    def _accepted(self, obj: object) -> _P | None:
        try:
            return self.item(obj)
        except InputError as error:
            self._on_refused(key_of_json(obj), error)
            return None


def pod_decoder(
    *, on_refused: Refused = _ignore_refusal, max_shared_parts: int = MAX_SHARED_PARTS
) -> ProjectionDecoder[Pod]:
    """A decoder of pods."""
    return ProjectionDecoder(
        "Pod",
        schema=PodJson,
        project=project_pod,
        on_refused=on_refused,
        max_shared_parts=max_shared_parts,
    )


def node_decoder(*, on_refused: Refused = _ignore_refusal) -> ProjectionDecoder[Node]:
    """A decoder of nodes."""
    return ProjectionDecoder("Node", schema=NodeJson, project=project_node, on_refused=on_refused)


def namespace_decoder(*, on_refused: Refused = _ignore_refusal) -> ProjectionDecoder[Namespace]:
    """A decoder of namespaces."""
    return ProjectionDecoder(
        "Namespace", schema=NamespaceJson, project=project_namespace, on_refused=on_refused
    )


def projection_decoder(
    kind: str, *, on_refused: Refused = _ignore_refusal
) -> ProjectionDecoder[Projection]:
    """A new decoder for ``kind`` (``Pod``, ``Node`` or ``Namespace``)."""
    schema: type[Any]
    project: Callable[[SharedParts, Any], Projection]
    if kind == "Pod":
        schema, project = PodJson, project_pod
    elif kind == "Node":
        schema, project = NodeJson, project_node
    elif kind == "Namespace":
        schema, project = NamespaceJson, project_namespace
    else:
        raise ValueError(f"no decoder for kind {quoted(kind)}; there are Pod, Node and Namespace")
    return ProjectionDecoder(kind, schema=schema, project=project, on_refused=on_refused)


# -- keys and versions ---------------------------------------------------------------------


def key_of(projection: Projection) -> ObjectKey:
    """The key of a projection."""
    if isinstance(projection, Pod):
        return (projection.namespace, projection.name)
    return ("", projection.name)


def key_of_json(obj: object) -> ObjectKey | None:
    """The key of an object as the API sent it, or ``None`` when it names no object.

    A name holding a character no kept text may hold names no object either: the
    projection refuses such an object, so it is never kept, and its key would carry
    the character into log lines.
    """
    metadata = _metadata(obj)
    return _key(metadata.get("name"), metadata.get("namespace") or "")


def resource_version_of(obj: object) -> str | None:
    """``metadata.resourceVersion`` of an object or list, if it has one."""
    version = _metadata(obj).get("resourceVersion")
    return version if isinstance(version, str) and version else None


def _metadata(obj: object) -> Mapping[str, object]:
    metadata = obj.get("metadata") if isinstance(obj, Mapping) else None
    return metadata if isinstance(metadata, Mapping) else {}


def _schema_key(obj: PodJson | NodeJson | NamespaceJson) -> ObjectKey | None:
    """The key of a deleted object decoded by the schema, as ``key_of_json`` reads it."""
    metadata = obj.metadata
    if metadata is None:
        return None
    return _key(metadata.name, metadata.namespace or "")


def _key(name: object, namespace: object) -> ObjectKey | None:
    if not isinstance(name, str) or not name or not isinstance(namespace, str):
        return None
    if first_unsafe_character(name) or first_unsafe_character(namespace):
        return None
    return (namespace, name)


# -- messages ------------------------------------------------------------------------------


def _explain(error: msgspec.ValidationError, obj: object, *, kind: str) -> str:
    """msgspec's validation error on ``obj`` as one line naming the object and the field."""
    if not isinstance(obj, Mapping):
        return f"a {kind} must be a JSON object, got {describe_json_type(obj)}"
    what = _what(obj, kind)
    message = str(error)
    if (match := _VALIDATION.match(message)) is not None and match["path"]:
        path = match["path"].removeprefix(".")
        expected = match["expected"]
        noun = (
            "a list" if "array" in expected else "an object" if "object" in expected else "a string"
        )
        return f"{what}: {path} is {describe_json_type(_value_at(obj, path))}, not {noun}"
    if (match := _KEY_NOT_TEXT.match(message)) is not None:
        where = match["path"].removeprefix(".") or "the object"
        return f"{what}: {where} has a key that is not a string"
    return f"{what}: {message}"


def _what(obj: Mapping[str, object], kind: str) -> str:
    """``Pod ns/name``, ``Node name``, or less when the object does not say."""
    metadata = _metadata(obj)
    name, namespace = metadata.get("name"), metadata.get("namespace")
    if not isinstance(name, str) or not name:
        return kind
    if first_unsafe_character(name):
        return f"{kind} {quoted(name)}"  # escaped: the name cannot be shown as it is
    if kind != "Pod":
        return f"{kind} {name}"
    if not isinstance(namespace, str) or not namespace or first_unsafe_character(namespace):
        return f"Pod {quoted(name)}"
    return f"Pod {namespace}/{name}"


def _value_at(obj: object, path: str) -> object:
    """The value at a validation path such as ``spec.containers[0].resources``."""
    value = obj
    for name, index in _PATH_STEP.findall(f".{path}"):
        if index:
            value = value[int(index)] if isinstance(value, list) else None
        else:
            value = value.get(name) if isinstance(value, Mapping) else None
    return value
