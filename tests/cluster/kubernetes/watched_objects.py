"""Helpers for the tests of the watches of whole objects (Secrets, IBMLicensing resources)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from kubernetes import client

from license_service.cluster.kubernetes.object_watching import WatchTarget
from license_service.cluster.kubernetes.watch_options import WatchOptions

# Small backoff so that retries against the fake take milliseconds.
FAST_OPTIONS = WatchOptions(
    watch_timeout_seconds=30,
    connect_timeout_seconds=2,
    read_timeout_seconds=5,
    backoff_initial_seconds=0.01,
    backoff_cap_seconds=0.05,
)


class Recorder:
    """Records every map an ``ObjectWatcher`` hands over; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[dict[str, Mapping[str, Any]]] = []

    def __call__(self, objects: Mapping[str, Mapping[str, Any]]) -> None:
        with self._lock:
            self._calls.append(dict(objects))

    @property
    def calls(self) -> list[dict[str, Mapping[str, Any]]]:
        with self._lock:
            return list(self._calls)

    def latest_names(self) -> list[str] | None:
        """The names in the latest map, sorted (``None`` before the first)."""
        calls = self.calls
        return sorted(calls[-1]) if calls else None


def secrets_target(api_client: client.ApiClient, namespace: str = "default") -> WatchTarget:
    """Every Secret of ``namespace``."""
    core = client.CoreV1Api(api_client)

    def request(*, timeout: tuple[float, float], **parameters: Any) -> Any:
        return core.list_namespaced_secret(
            namespace, _preload_content=False, _request_timeout=timeout, **parameters
        )

    return WatchTarget(resource="secrets", description="Secrets", request=request)


def uninstalled_target(api_client: client.ApiClient) -> WatchTarget:
    """A custom resource type the fake does not serve (its list answers 404)."""
    custom = client.CustomObjectsApi(api_client)

    def request(*, timeout: tuple[float, float], **parameters: Any) -> Any:
        return custom.list_cluster_custom_object(
            "example.com",
            "v1",
            "widgets",
            _preload_content=False,
            _request_timeout=timeout,
            **parameters,
        )

    return WatchTarget(
        resource="widgets", description="widgets", request=request, missing_means_empty=True
    )


def secret(name: str, *, namespace: str = "default", value: str = "dmFsdWU=") -> dict[str, Any]:
    """A Secret with one key ``v``."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": "Opaque",
        "data": {"v": value},
    }
