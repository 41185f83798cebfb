"""A prototype: Kubernetes JSON decoded by a schema naming only the projection's fields.

``json.loads`` builds every dict, list and string of a pod (managedFields, env,
probes, status ...) before ``kubernetes_json`` keeps a few of them; that, not the
projection, is the cost of the initial sync and of the watch. A decoder given a
schema (``msgspec`` ``Struct`` types) skips every field the schema does not name
without building it. This module decodes list pages and watch lines that way, into
the same ``metering.cluster_view`` values, so the benchmarks can show what such a
decoder would reach on the same bytes. It is not used by the service: where it
should go (``cluster.kubernetes_json``) is written in ``bench/RESULTS.md``.
``msgspec`` is a development dependency (``pip install -e '.[dev]'``).
"""

from __future__ import annotations

from typing import Final

import msgspec

from license_service.metering.cluster_view import LICENSE_ANNOTATIONS, Container, Pod

# The schema: only the fields the projection reads. Field names are the API's.


class Limits(msgspec.Struct):
    """``resources.limits`` of a container."""

    cpu: str | None = None


class Resources(msgspec.Struct):
    """``resources`` of a container."""

    limits: Limits | None = None


class ContainerSpec(msgspec.Struct):
    """A container or init container."""

    name: str
    resources: Resources | None = None
    restartPolicy: str | None = None


class Spec(msgspec.Struct):
    """A pod's ``spec``."""

    containers: list[ContainerSpec] = []
    initContainers: list[ContainerSpec] | None = None
    nodeName: str | None = None


class Metadata(msgspec.Struct):
    """A pod's ``metadata``."""

    name: str
    namespace: str = ""
    annotations: dict[str, str] | None = None
    resourceVersion: str | None = None


class Status(msgspec.Struct):
    """A pod's ``status``."""

    phase: str | None = None


class PodJson(msgspec.Struct):
    """A pod."""

    metadata: Metadata
    spec: Spec | None = None
    status: Status | None = None


class ListMetadata(msgspec.Struct):
    """A list's ``metadata``."""

    resourceVersion: str | None = None
    continue_: str | None = msgspec.field(default=None, name="continue")


class PodListJson(msgspec.Struct):
    """One page of a pod list."""

    metadata: ListMetadata
    items: list[PodJson] = []


class EventJson(msgspec.Struct):
    """One watch event of a pod."""

    type: str
    object: PodJson


_PAGES: Final = msgspec.json.Decoder(PodListJson)
_EVENTS: Final = msgspec.json.Decoder(EventJson)


def _pod(item: PodJson) -> Pod:
    spec = item.spec
    containers: list[Container] = []
    node_name = ""
    if spec is not None:
        node_name = spec.nodeName or ""
        for container in spec.containers:
            limits = container.resources.limits if container.resources else None
            containers.append(Container(container.name, limits.cpu if limits else None))
        for container in spec.initContainers or ():
            if container.restartPolicy == "Always":
                limits = container.resources.limits if container.resources else None
                containers.append(Container(container.name, limits.cpu if limits else None))
    metadata = item.metadata
    annotations = metadata.annotations or {}
    return Pod(
        namespace=metadata.namespace,
        name=metadata.name,
        node_name=node_name,
        containers=tuple(containers),
        annotations={
            key: value for key, value in annotations.items() if key in LICENSE_ANNOTATIONS
        },
        running=item.status is not None and item.status.phase == "Running",
    )


def pods_of_page(page: bytes) -> list[Pod]:
    """The projections of the pods of one ``PodList`` page."""
    return [_pod(item) for item in _PAGES.decode(page).items]


def event_of_line(line: bytes) -> tuple[str, Pod]:
    """The type and pod projection of one watch line."""
    event = _EVENTS.decode(line)
    return event.type, _pod(event.object)
