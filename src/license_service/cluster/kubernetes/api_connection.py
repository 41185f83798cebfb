"""One connection to the Kubernetes API, and everything the service builds on it.

The layers above ``cluster`` never import the Kubernetes client, so they never hold an
``ApiClient``: they hold an ``ApiConnection`` and ask it for the parts they need (the
collector, the watch of the ``IBMLicensing`` resources, the token Secret, the signing
key Secret). Every part shares the one client; the watches of Secrets and resources
share one ``CollectorCounters`` (``counters``), the collector keeps its own.
``close`` releases the client's connections once the parts are stopped. ``api_client``
hands the client to ``auth.kubernetes_reviews``, the one other module allowed to use it.
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
from license_service.cluster.kubernetes.object_watching import JsonObject
from license_service.cluster.kubernetes.watch_options import WatchOptions
from license_service.metering.cluster_view import ClusterId
from license_service.secrets.licensing_resource import (
    LicensingResourceWatch,
    read_licensing_document,
)
from license_service.signing.secret_store import load_or_create_signing_key_pem
from license_service.tls.certificates import TlsPems
from license_service.tls.secret_store import (
    load_or_create_self_signed_pems,
    read_custom_pems,
)
from license_service.tokens.secret_store import (
    TokenReading,
    TokenSecret,
    TokenSecretWatch,
)


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
        """The client itself, for the few parts above ``cluster`` allowed to use it directly
        (the TokenReview and SubjectAccessReview of ``auth.kubernetes_reviews``)."""
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

    def licensing_watch(
        self,
        *,
        on_document: Callable[[JsonObject | None], None],
        options: WatchOptions,
        clock: Callable[[], datetime],
    ) -> LicensingResourceWatch:
        """The (unstarted) watch of the ``IBMLicensing`` resources."""
        return LicensingResourceWatch(
            self._api_client,
            on_document=on_document,
            counters=self.counters,
            options=options,
            clock=clock,
        )

    def licensing_document(self) -> JsonObject | None:
        """The ``IBMLicensing`` document in force now (one request), or ``None``."""
        return read_licensing_document(self._api_client)

    def token_secret(self, *, namespace: str, name: str) -> TokenSecret:
        """The token Secret ``name`` of ``namespace``, for reads and writes."""
        return TokenSecret(self._api_client, namespace=namespace, name=name)

    def token_watch(
        self,
        secret: TokenSecret,
        *,
        on_reading: Callable[[TokenReading], None],
        new_token: Callable[[], str],
        options: WatchOptions,
        clock: Callable[[], datetime],
    ) -> TokenSecretWatch:
        """The (unstarted) watch of a token Secret, which creates it when missing."""
        return TokenSecretWatch(
            secret,
            on_reading=on_reading,
            new_token=new_token,
            counters=self.counters,
            options=options,
            clock=clock,
        )

    def signing_key_pem(self, *, namespace: str, generate: Callable[[], bytes]) -> bytes:
        """The PEM signing key kept in its Secret, created with ``generate()`` when missing."""
        return load_or_create_signing_key_pem(
            self._api_client, namespace=namespace, generate=generate
        )

    def tls_pems(
        self,
        *,
        namespace: str,
        custom: bool,
        generate: Callable[[], TlsPems],
        due: Callable[[TlsPems], bool],
    ) -> TlsPems:
        """The HTTPS pair: the operator's Secret when ``custom``, else the self-signed one
        (renewed when ``due``)."""
        if custom:
            return read_custom_pems(self._api_client, namespace=namespace)
        return load_or_create_self_signed_pems(
            self._api_client, namespace=namespace, generate=generate, due=due
        )

    def close(self) -> None:
        """Release the client's connections."""
        self._api_client.close()  # type: ignore[no-untyped-call]
