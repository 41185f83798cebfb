"""The fake Kubernetes API server in its own process, seeded for the load test, over plain REST.

The fake runs as a separate process (``FakeApiProcess``) so that serving watches and the
writes of the event stream do not compete with the load generator for the test process's
interpreter. Objects are written through the real API (``POST``/``PATCH``/``DELETE``), so
every write reaches the service as a watch event, exactly as on a cluster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import httpx

from license_service.signing.secret_store import SIGNING_KEY_SECRET, signing_key_secret_manifest
from tests.kubernetes_fake.client_setup import write_kubeconfig
from tests.kubernetes_fake.manifests import namespace_manifest, node_manifest, token_secret_manifest
from tests.kubernetes_fake.process import FakeApiProcess

JsonObject = dict[str, Any]

SERVICE_NAMESPACE: Final = "ibm-common-services"
WORKLOAD_NAMESPACE: Final = "load"
NODES: Final = tuple(f"load-node-{index}" for index in range(1, 5))
NODE_CPU: Final = 64  # large enough that the stream's pods are never capped (usage stays exact)
API_TOKEN: Final = "LoadTestApiToken0123456789"
MERGE_PATCH: Final = {"Content-Type": "application/merge-patch+json"}


class LiveCluster:
    """A REST client of a ``FakeApiProcess``: seeding, pod writes, and counting pods."""

    def __init__(self, fake: FakeApiProcess) -> None:
        self.fake = fake
        self._http = httpx.Client(base_url=fake.url, timeout=30.0)

    def close(self) -> None:
        """Close the HTTP connection (the fake process is its owner's to stop)."""
        self._http.close()

    def seed(self, *, signing_key_pem: bytes) -> None:
        """The service's namespace with its token and signing key, the workload's, four nodes."""
        for name in (SERVICE_NAMESPACE, WORKLOAD_NAMESPACE):
            self._create("/api/v1/namespaces", namespace_manifest(name))
        for node in NODES:
            self._create("/api/v1/nodes", node_manifest(node, cpu=str(NODE_CPU)))
        secrets = f"/api/v1/namespaces/{SERVICE_NAMESPACE}/secrets"
        self._create(secrets, token_secret_manifest(API_TOKEN, namespace=SERVICE_NAMESPACE))
        self._create(
            secrets,
            signing_key_secret_manifest(
                signing_key_pem, namespace=SERVICE_NAMESPACE, name=SIGNING_KEY_SECRET
            ),
        )

    def kubeconfig(self, path: Path) -> Path:
        """A kubeconfig pointing at the fake."""
        return write_kubeconfig(path, self.fake.url)

    def create_pod(self, manifest: JsonObject) -> None:
        """Create a pod in the workload namespace (an ADDED event)."""
        self._create(f"/api/v1/namespaces/{WORKLOAD_NAMESPACE}/pods", manifest)

    def patch_pod(self, name: str, patch: JsonObject) -> None:
        """Merge-patch a pod (a MODIFIED event)."""
        answer = self._http.patch(
            f"/api/v1/namespaces/{WORKLOAD_NAMESPACE}/pods/{name}", json=patch, headers=MERGE_PATCH
        )
        _expect(answer, 200)

    def patch_pod_status(self, name: str, patch: JsonObject) -> None:
        """Merge-patch a pod's status subresource (a MODIFIED event), as the kubelet would."""
        answer = self._http.patch(
            f"/api/v1/namespaces/{WORKLOAD_NAMESPACE}/pods/{name}/status",
            json=patch,
            headers=MERGE_PATCH,
        )
        _expect(answer, 200)

    def delete_pod(self, name: str) -> None:
        """Delete a pod (a DELETED event)."""
        _expect(self._http.delete(f"/api/v1/namespaces/{WORKLOAD_NAMESPACE}/pods/{name}"), 200)

    def pods(self) -> list[JsonObject]:
        """Every pod of the workload namespace, as the API server holds them now."""
        answer = self._http.get(f"/api/v1/namespaces/{WORKLOAD_NAMESPACE}/pods")
        _expect(answer, 200)
        items: list[JsonObject] = answer.json()["items"]
        return items

    def _create(self, path: str, manifest: JsonObject) -> None:
        _expect(self._http.post(path, json=manifest), 201)


def _expect(answer: httpx.Response, status: int) -> None:
    if answer.status_code != status:
        raise AssertionError(
            f"the fake API server answered {answer.request.method} {answer.request.url.path} "
            f"with {answer.status_code} (expected {status}): {answer.text[:500]}"
        )
