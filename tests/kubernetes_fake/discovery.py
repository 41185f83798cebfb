"""Discovery documents: what ``/api``, ``/apis``, ``/apis/<group>[/<version>]`` and ``/version``
answer, built from ``resource_types`` so they always describe what is served.

Only the legacy (unaggregated) form is served. Assumption, checked against kubectl 1.32:
clients that ask for aggregated discovery (``Accept: …;g=apidiscovery.k8s.io;v=v2;as=
APIGroupDiscoveryList``) fall back to the legacy documents when the answer's content type is
plain ``application/json``.
"""

from __future__ import annotations

from typing import Any

from .resource_types import RESOURCE_TYPES, ResourceType, group_versions

JsonObject = dict[str, Any]

SERVER_VERSION: JsonObject = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.4",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2025-01-01T00:00:00Z",
    "goVersion": "go1.23.8",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def core_versions(server_address: str) -> JsonObject:
    """``/api``: the core group's versions."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def group_list() -> JsonObject:
    """``/apis``: every named group."""
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [group_document(group) for group in group_versions() if group],
    }


def group_document(group: str) -> JsonObject:
    """``/apis/<group>``: one group and its versions."""
    versions = [
        {"groupVersion": f"{group}/{version}", "version": version}
        for version in group_versions()[group]
    ]
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": versions,
        "preferredVersion": versions[0],
    }


def resource_list(group: str, version: str) -> JsonObject | None:
    """``/api/v1`` or ``/apis/<group>/<version>``: the resources served there, or None."""
    served = [t for t in RESOURCE_TYPES if (t.group, t.version) == (group, version)]
    if not served:
        return None
    resources: list[JsonObject] = []
    for resource_type in served:
        resources.append(_resource_entry(resource_type))
        resources.extend(
            {
                "name": f"{resource_type.plural}/{subresource}",
                "singularName": "",
                "namespaced": resource_type.namespaced,
                "kind": resource_type.kind,
                "verbs": ["get", "patch", "update"],
            }
            for subresource in resource_type.subresources
        )
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": version if not group else f"{group}/{version}",
        "resources": resources,
    }


def _resource_entry(resource_type: ResourceType) -> JsonObject:
    entry: JsonObject = {
        "name": resource_type.plural,
        "singularName": resource_type.singular,
        "namespaced": resource_type.namespaced,
        "kind": resource_type.kind,
        "verbs": list(resource_type.verbs),
    }
    if resource_type.short_names:
        entry["shortNames"] = list(resource_type.short_names)
    if resource_type.categories:
        entry["categories"] = list(resource_type.categories)
    return entry
