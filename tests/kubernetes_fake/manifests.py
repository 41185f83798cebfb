"""Builders of the objects tests create through a fake: small, valid manifests."""

from __future__ import annotations

from typing import Any

JsonObject = dict[str, Any]

SEED_TOKEN_LABELS = {
    "app.kubernetes.io/component": "ibm-licensing-service-svc",
    "app.kubernetes.io/instance": "ibm-licensing-service",
    "app.kubernetes.io/managed-by": "operator",
    "app.kubernetes.io/name": "ibm-licensing-service-instance",
    "release": "ibm-licensing-service",
}


def pod_manifest(
    name: str,
    *,
    namespace: str = "default",
    labels: dict[str, str] | None = None,
    node_name: str | None = None,
    phase: str | None = None,
    cpu_limit: str = "1",
) -> JsonObject:
    """A one-container pod (status only when ``phase`` is given)."""
    spec: JsonObject = {
        "containers": [
            {"name": "main", "image": "busybox", "resources": {"limits": {"cpu": cpu_limit}}}
        ]
    }
    if node_name is not None:
        spec["nodeName"] = node_name
    manifest: JsonObject = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
        "spec": spec,
    }
    if phase is not None:
        manifest["status"] = {"phase": phase}
    return manifest


def namespace_manifest(name: str) -> JsonObject:
    """A namespace."""
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def node_manifest(name: str, *, cpu: str = "8") -> JsonObject:
    """A node with a CPU capacity."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "status": {"capacity": {"cpu": cpu}},
    }


def token_secret_manifest(
    token: str, *, namespace: str = "ibm-common-services", name: str = "ibm-licensing-token"
) -> JsonObject:
    """The seed's token.yml: a Secret with the token in ``stringData``."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(SEED_TOKEN_LABELS)},
        "type": "Opaque",
        "stringData": {"token": token},
    }


def ibm_licensing_manifest(name: str = "instance", *, spec: JsonObject | None = None) -> JsonObject:
    """A cluster-scoped IBMLicensing custom resource."""
    return {
        "apiVersion": "operator.ibm.com/v1alpha1",
        "kind": "IBMLicensing",
        "metadata": {"name": name},
        "spec": spec if spec is not None else {"datasource": "datacollector"},
    }
