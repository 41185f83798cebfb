"""URL paths of the Kubernetes API, parsed into what they address. Pure functions.

Resource paths: ``/api/v1[/namespaces/<ns>]/<plural>[/<name>[/<subresource>]]`` and the same
under ``/apis/<group>/<version>``; the deprecated ``…/watch/…`` prefix is accepted too.
"""

from __future__ import annotations

from dataclasses import dataclass

from .resource_types import ResourceType, find_resource_type, group_versions


@dataclass(frozen=True)
class ResourceRoute:
    """A collection, an object, or an object's subresource."""

    resource_type: ResourceType
    namespace: str | None
    name: str | None = None
    subresource: str | None = None
    legacy_watch: bool = False


@dataclass(frozen=True)
class DiscoveryRoute:
    """A discovery document: ``version``, ``core``, ``groups``, ``group`` or ``resources``."""

    document: str
    group: str = ""
    version: str = ""


Route = ResourceRoute | DiscoveryRoute


def parse_path(path: str) -> Route | None:
    """What the path addresses, or None when nothing is served there."""
    segments = [segment for segment in path.split("/") if segment]
    if segments == ["version"]:
        return DiscoveryRoute("version")
    if segments == ["api"]:
        return DiscoveryRoute("core")
    if segments == ["apis"]:
        return DiscoveryRoute("groups")
    if len(segments) >= 2 and segments[0] == "api":
        group, version, rest = "", segments[1], segments[2:]
    elif len(segments) >= 2 and segments[0] == "apis":
        if segments[1] not in group_versions():
            return None
        if len(segments) == 2:
            return DiscoveryRoute("group", group=segments[1])
        group, version, rest = segments[1], segments[2], segments[3:]
    else:
        return None
    if version not in group_versions().get(group, []):
        return None
    if not rest:
        return DiscoveryRoute("resources", group=group, version=version)
    return _resource_route(group, version, rest)


def _resource_route(group: str, version: str, rest: list[str]) -> ResourceRoute | None:
    legacy_watch = rest[0] == "watch"
    if legacy_watch:
        rest = rest[1:]
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespaced_type = find_resource_type(group, version, rest[2])
        if namespaced_type is not None and namespaced_type.namespaced:
            return _object_route(namespaced_type, rest[1], rest[3:], legacy_watch)
    if not rest:
        return None
    resource_type = find_resource_type(group, version, rest[0])
    if resource_type is None:
        return None
    if resource_type.namespaced and len(rest) > 1:
        return None
    return _object_route(resource_type, None, rest[1:], legacy_watch)


def _object_route(
    resource_type: ResourceType, namespace: str | None, tail: list[str], legacy_watch: bool
) -> ResourceRoute | None:
    if len(tail) > 2:
        return None
    name = tail[0] if tail else None
    subresource = tail[1] if len(tail) == 2 else None
    if subresource is not None and subresource not in resource_type.subresources:
        return None
    return ResourceRoute(resource_type, namespace, name, subresource, legacy_watch)
