"""The three resources the collector watches, and how each is asked for.

Pods are listed across all namespaces, nodes and namespaces are cluster-scoped: three
GET endpoints of the core API (``/api/v1/pods``, ``/api/v1/nodes``,
``/api/v1/namespaces``), which is all the reader ClusterRole has to allow (list and
watch). Every call goes through the official client's ``CoreV1Api`` for its transport,
authentication and parameter encoding, but with ``_preload_content=False``: the answer
is the raw urllib3 response, whose JSON bytes ``cluster.decoding`` decodes, so the
client never builds its model objects (``V1Pod``) for what we read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, cast

from kubernetes import client

from license_service.cluster.kubernetes.list_watch import WatchTarget

if TYPE_CHECKING:
    from urllib3.response import HTTPResponse

_ListCall = Callable[[client.CoreV1Api], Callable[..., object]]


@dataclass(frozen=True, slots=True)
class ResourceKind:
    """One watched resource: its plural name, its kind and its list call."""

    name: str
    kind: str
    list_call: _ListCall

    def target(self, core: client.CoreV1Api) -> WatchTarget:
        """The list+watch of every object of this resource, listed in pages."""
        call = self.list_call(core)

        def request(*, timeout: tuple[float, float], **parameters: object) -> HTTPResponse:
            response = call(**parameters, _preload_content=False, _request_timeout=timeout)
            return cast("HTTPResponse", response)

        return WatchTarget(resource=self.name, description=self.name, request=request, paged=True)


PODS: Final = ResourceKind(
    name="pods",
    kind="Pod",
    list_call=lambda core: core.list_pod_for_all_namespaces,
)
NODES: Final = ResourceKind(
    name="nodes",
    kind="Node",
    list_call=lambda core: core.list_node,
)
NAMESPACES: Final = ResourceKind(
    name="namespaces",
    kind="Namespace",
    list_call=lambda core: core.list_namespace,
)
WATCHED_KINDS: Final = (PODS, NODES, NAMESPACES)
