"""The three resources the collector watches, and how each is asked for.

Pods are listed across all namespaces, nodes and namespaces are cluster-scoped: three
GET endpoints of the core API (``/api/v1/pods``, ``/api/v1/nodes``,
``/api/v1/namespaces``), which is all the reader ClusterRole has to allow (list and
watch). Every call goes through the official client's ``CoreV1Api`` for its transport,
authentication and parameter encoding, but with ``_preload_content=False``: the answer
is the raw urllib3 response, whose JSON bytes ``raw_responses`` decodes, so the client
never builds its model objects (``V1Pod``) for what we read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, cast

from kubernetes import client

from license_service.cluster.kubernetes_json import (
    namespace_from_json,
    node_from_json,
    pod_from_json,
)
from license_service.metering.cluster_view import Namespace, Node, Pod

if TYPE_CHECKING:
    from urllib3.response import HTTPResponse

Projection = Pod | Node | Namespace
ObjectKey = tuple[str, str]
"""(namespace, name) of an object; the namespace is ``""`` for nodes and namespaces."""

_ListCall = Callable[[client.CoreV1Api], Callable[..., object]]


@dataclass(frozen=True, slots=True)
class ResourceKind:
    """One watched resource: its plural name, kind, API call and decoder."""

    name: str
    kind: str
    decode: Callable[[object], Projection]
    list_call: _ListCall

    def request(
        self,
        core: client.CoreV1Api,
        *,
        timeout: tuple[float, float],
        **parameters: object,
    ) -> HTTPResponse:
        """Send one list or watch request; return the unread response (non-2xx raises)."""
        call = self.list_call(core)
        return cast(
            "HTTPResponse",
            call(**parameters, _preload_content=False, _request_timeout=timeout),
        )


def key_of(projection: Projection) -> ObjectKey:
    """The map key of a decoded object."""
    if isinstance(projection, Pod):
        return (projection.namespace, projection.name)
    return ("", projection.name)


def key_of_json(obj: object) -> ObjectKey | None:
    """The map key of an object as the API sent it, or ``None`` when it names no object."""
    if not isinstance(obj, Mapping):
        return None
    metadata = obj.get("metadata")
    if not isinstance(metadata, Mapping):
        return None
    name = metadata.get("name")
    namespace = metadata.get("namespace") or ""
    if not isinstance(name, str) or not name or not isinstance(namespace, str):
        return None
    return (namespace, name)


def resource_version_of(obj: object) -> str | None:
    """``metadata.resourceVersion`` of an object or list, if it has one."""
    if not isinstance(obj, Mapping):
        return None
    metadata = obj.get("metadata")
    if not isinstance(metadata, Mapping):
        return None
    version = metadata.get("resourceVersion")
    return version if isinstance(version, str) and version else None


PODS: Final = ResourceKind(
    name="pods",
    kind="Pod",
    decode=pod_from_json,
    list_call=lambda core: core.list_pod_for_all_namespaces,
)
NODES: Final = ResourceKind(
    name="nodes",
    kind="Node",
    decode=node_from_json,
    list_call=lambda core: core.list_node,
)
NAMESPACES: Final = ResourceKind(
    name="namespaces",
    kind="Namespace",
    decode=namespace_from_json,
    list_call=lambda core: core.list_namespace,
)
WATCHED_KINDS: Final = (PODS, NODES, NAMESPACES)
