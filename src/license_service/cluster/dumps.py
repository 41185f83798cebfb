"""Cluster dumps: the output of ``kubectl get pods,nodes,namespaces -A -o json`` as a view.

A dump is a ``List`` (kind ``List``, every item with its kind) or a typed list
(``PodList``, ``NodeList``, ``NamespaceList``), in JSON or YAML (``-o yaml``); a
single Pod, Node or Namespace object is accepted too. Several dumps are merged into
one ``ClusterView`` (an object listed twice keeps its last version); ``-`` reads
standard input. Items of other kinds (Services, Deployments, ...) are ignored.

Whatever is wrong with a file raises ``InputError`` with ONE line naming the file
and the problem (not JSON/YAML, not a Kubernetes list, which item is malformed).
"""

from __future__ import annotations

import codecs
import json
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Final, TextIO, cast

import yaml

from license_service.cluster.decoding import (
    ProjectionDecoder,
    namespace_decoder,
    node_decoder,
    pod_decoder,
)
from license_service.cluster.projections import describe_json_type
from license_service.configuration.yaml_documents import describe_yaml_error, load_yaml_documents
from license_service.errors import InputError
from license_service.message_values import quoted
from license_service.metering.cluster_view import ClusterId, ClusterView, Namespace, Node, Pod

STDIN: Final = "-"
UNKNOWN_CLUSTER_ID: Final = ClusterId("unknown")
_CLUSTER_ID_NAMESPACE: Final = "kube-system"
_KUBECTL_HINT: Final = "save the output of `kubectl get pods,nodes,namespaces -A -o json`"

_LIST_KINDS: Final = {
    "List": None,
    "PodList": "Pod",
    "NodeList": "Node",
    "NamespaceList": "Namespace",
}
_KINDS: Final = frozenset({"Pod", "Node", "Namespace"})


def read_dumps(sources: Sequence[str | Path], *, stdin: TextIO | None = None) -> ClusterView:
    """Read and merge the dumps at ``sources`` (``-``: ``stdin``, by default ``sys.stdin``)."""
    merged = _Merged()
    for source in sources:
        if str(source) == STDIN:
            text = (stdin or sys.stdin).read()
            merged.add(parse_dump(text, source="<stdin>"))
        else:
            path = Path(source)
            merged.add(parse_dump(_read_text(path), source=str(path)))
    return merged.view()


def parse_dump(text: str, *, source: str) -> ClusterView:
    """Decode the dump ``text``; ``source`` names it in error messages."""
    merged = _Merged()
    # One decoder per kind and dump: the pods of one workload share their parts.
    decoders: dict[
        str, ProjectionDecoder[Pod] | ProjectionDecoder[Node] | ProjectionDecoder[Namespace]
    ] = {
        "Pod": pod_decoder(),
        "Node": node_decoder(),
        "Namespace": namespace_decoder(),
    }
    for document in _documents(text, source=source):
        for label, kind, item in _items(document, source=source):
            try:
                merged.add_object(decoders[kind].item(item))
            except InputError as exc:
                raise InputError(f"{source}: {label}: {exc}") from exc
    return merged.view()


def cluster_id_of(view: ClusterView) -> ClusterId:
    """The uid of the ``kube-system`` namespace (SPEC 1), or ``"unknown"`` when not listed."""
    for namespace in view.namespaces:
        if namespace.name == _CLUSTER_ID_NAMESPACE and namespace.uid:
            return ClusterId(namespace.uid)
    return UNKNOWN_CLUSTER_ID


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file; {_KUBECTL_HINT} to a file first") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{path}: is a directory, not a dump file") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file: {exc.strerror or exc}") from exc
    # PowerShell's `>` writes UTF-16 with a byte-order mark; UTF-8 may carry one too.
    encoding = (
        "utf-16" if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8-sig"
    )
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not a text file (invalid {encoding} at byte {exc.start}); {_KUBECTL_HINT}"
        ) from exc


def _documents(text: str, *, source: str) -> list[object]:
    stripped = text.lstrip()
    if not stripped:
        raise InputError(f"{source}: the file is empty; {_KUBECTL_HINT}")
    if stripped[0] in "{[":
        try:
            # Decimal keeps a number such as a CPU limit of 0.1 exactly as written.
            return [json.loads(text, parse_float=Decimal)]
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{source}: not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from exc
        except (RecursionError, ValueError) as exc:
            # Nesting deeper than Python's stack, or an integer of over 4300 digits.
            raise InputError(
                f"{source}: JSON that cannot be read ({exc.__class__.__name__}: nested too "
                f"deeply or a number too long); {_KUBECTL_HINT}"
            ) from exc
    try:
        documents = [document for document in load_yaml_documents(text) if document is not None]
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: not valid YAML: {describe_yaml_error(exc)}") from exc
    if not documents:
        raise InputError(f"{source}: the file holds no document; {_KUBECTL_HINT}")
    return documents


def _items(document: object, *, source: str) -> Iterator[tuple[str, str, object]]:
    """``(label, kind, item)`` of every Pod, Node and Namespace in one document."""
    if not isinstance(document, Mapping):
        raise InputError(
            f"{source}: not a Kubernetes list (the document is {describe_json_type(document)}); "
            f"{_KUBECTL_HINT}"
        )
    kind = document.get("kind")
    if kind in _KINDS:
        yield "the object", cast(str, kind), document
        return
    if kind not in _LIST_KINDS:
        shown = "no kind" if kind is None else f"kind {quoted(kind)}"
        raise InputError(
            f"{source}: not a Kubernetes list (found {shown}; expected List, PodList, "
            f"NodeList or NamespaceList); {_KUBECTL_HINT}"
        )
    items = document.get("items")
    if items is None:
        return
    if not isinstance(items, list):
        raise InputError(f"{source}: items is {describe_json_type(items)}, not a list")
    item_kind = _LIST_KINDS[cast(str, kind)]
    for index, item in enumerate(cast(Iterable[object], items)):
        label = f"items[{index}]"
        if not isinstance(item, Mapping):
            raise InputError(f"{source}: {label} is {describe_json_type(item)}, not an object")
        found = item.get("kind", item_kind)
        if found is None:
            raise InputError(
                f"{source}: {label} has no kind; a List needs the kind of every item "
                "(kubectl writes it)"
            )
        if found in _KINDS:
            yield label, found, item


@dataclass(slots=True)
class _Merged:
    """Objects of several dumps, keyed so that an object listed twice is kept once (the last)."""

    pods: dict[tuple[str, str], Pod] = field(default_factory=dict)
    nodes: dict[str, Node] = field(default_factory=dict)
    namespaces: dict[str, Namespace] = field(default_factory=dict)

    def add(self, view: ClusterView) -> None:
        objects: tuple[Pod | Node | Namespace, ...] = (*view.pods, *view.nodes, *view.namespaces)
        for obj in objects:
            self.add_object(obj)

    def add_object(self, obj: Pod | Node | Namespace) -> None:
        if isinstance(obj, Pod):
            self.pods[(obj.namespace, obj.name)] = obj
        elif isinstance(obj, Node):
            self.nodes[obj.name] = obj
        else:
            self.namespaces[obj.name] = obj

    def view(self) -> ClusterView:
        return ClusterView(
            pods=tuple(self.pods.values()),
            nodes=tuple(self.nodes.values()),
            namespaces=tuple(self.namespaces.values()),
        )
