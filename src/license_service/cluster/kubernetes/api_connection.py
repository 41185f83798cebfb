"""One connection to the Kubernetes API, shared by every part the service builds on it.

The runtime holds an ``ApiConnection``, never the client's modules: it asks it for
the collector, and hands ``api_client`` to the few modules allowed to use the client
(the Secrets and the ``IBMLicensing`` resource in ``secrets``, ``tokens``, ``signing``
and ``tls``; ``auth.kubernetes_reviews``). Every part shares the one client; the
watches of Secrets and resources share one ``CollectorCounters`` (``counters``), the
collector keeps its own. ``close`` releases the client's connections once the parts
are stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

from kubernetes import client

from license_service.cluster.kubernetes.collector import KubernetesSource
from license_service.cluster.kubernetes.connection import (
    SERVICE_ACCOUNT_DIRECTORY,
    in_cluster_api_client,
    kubeconfig_api_client,
)
from license_service.cluster.kubernetes.counters import CollectorCounters
from license_service.cluster.kubernetes.watch_options import WatchOptions
from license_service.metering.cluster_view import ClusterId


class ApiConnection:
    """A client to one API server; the factory of the parts that use it."""

    def __init__(self, api_client: client.ApiClient, *, description: str) -> None:
        """Take ownership of ``api_client``; ``description`` says whose credentials it uses."""
        self._api_client = api_client
        self.description = description
        self.counters = CollectorCounters()

    @classmethod
    def in_cluster(
        cls,
        *,
        environ: Mapping[str, str] | None = None,
        service_account_directory: Path = SERVICE_ACCOUNT_DIRECTORY,
    ) -> ApiConnection:
        """Connect with the pod's service account (``ClusterError`` outside a pod)."""
        api_client = in_cluster_api_client(
            environ=environ, service_account_directory=service_account_directory
        )
        return cls(api_client, description="the pod's service account")

    @classmethod
    def from_kubeconfig(cls, path: Path | None, *, context: str | None) -> ApiConnection:
        """Connect with a kubeconfig (default: ``$KUBECONFIG`` or ``~/.kube/config``)."""
        api_client = kubeconfig_api_client(path, context=context)
        where = f"kubeconfig {path}" if path is not None else "the default kubeconfig"
        return cls(api_client, description=f"{where}, context {context}" if context else where)

    @property
    def api_client(self) -> client.ApiClient:
        """The client itself, for the few modules allowed to use it directly."""
        return self._api_client

    def collector(
        self,
        *,
        cluster_id: ClusterId | None,
        options: WatchOptions,
        clock: Callable[[], datetime],
    ) -> KubernetesSource:
        """The (unstarted) collector of pods, nodes and namespaces."""
        return KubernetesSource(
            self._api_client, cluster_id=cluster_id, options=options, clock=clock
        )

    def close(self) -> None:
        """Release the client's connections."""
        self._api_client.close()  # type: ignore[no-untyped-call]
