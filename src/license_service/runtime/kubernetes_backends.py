"""The backends of a service measuring a live cluster: the Secrets, the resource, the watches.

``KubernetesBackends`` is what ``kubernetes_start.connect_kubernetes`` connected,
started and checked: the collector, the followed ``IBMLicensing`` resource (unless
``--config``), the followed token Secret (unless ``--token-file``), the signing key
and the HTTPS pair read from their Secrets, in the service's namespace. It is the
``Backends`` the service is assembled with: the API token and service-account
tokens authenticate; the watches' failures join ``/health`` and their figures
``/metrics``; a watch thread that ends stops the service. ``close`` stops the watch
threads and closes the client; it may be called more than once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from prometheus_client.registry import Collector

from license_service.auth.authenticator_chain import AuthenticatorChain
from license_service.auth.authenticators import ApiTokenAuthenticator, Authenticator
from license_service.auth.failed_attempts import FailedAttemptLimiter
from license_service.auth.kubernetes_reviews import KubernetesReviews
from license_service.auth.service_accounts import ServiceAccountAuthenticator
from license_service.cluster.kubernetes import KubernetesSource
from license_service.cluster.kubernetes.api_connection import ApiConnection
from license_service.config_sources.source import LicensingConfigSource
from license_service.entitlement_sources.followed import FollowedEntitlements
from license_service.errors import LicenseServiceError
from license_service.metering.cluster_view import ClusterId
from license_service.reporting.reporter_credentials import ReporterCredentials, ReporterFiles
from license_service.runtime.backends import FileBackends
from license_service.runtime.options import ServeOptions
from license_service.runtime.paths import DataDir
from license_service.runtime.periodic import WATCH_EVERY_SECONDS, Job
from license_service.secrets.entitlements_configmap import EntitlementsConfigMapWatch
from license_service.secrets.licensing_resource import LicensingResourceWatch
from license_service.secrets.reporter_secrets import ReporterSecrets
from license_service.signing.keys import SigningKey
from license_service.signing.secret_store import SigningKeySecret
from license_service.tls.certificates import TlsPems
from license_service.tokens.followed import KeptToken, TokenSource
from license_service.tokens.secret_source import SecretTokenSource
from license_service.waiting import stopped_while_waiting
from license_service.web.metrics.kubernetes_metrics import KubernetesMetricsCollector

logger = logging.getLogger(__name__)


class Stoppable(Protocol):
    """A part that runs until stopped (a watch, the collector)."""

    def stop(self) -> None:
        """Stop it (harmless when stopped already)."""
        ...


@dataclass(eq=False)
class KubernetesBackends:
    """The ``Backends`` ``connect_kubernetes`` started; ``close`` stops them all.

    ``tokens`` is ``None`` with ``--token-file`` and ``resource_watch`` with
    ``--config``: ``files`` keeps those concerns then.
    """

    connection: ApiConnection
    source: KubernetesSource
    cluster_id: ClusterId
    namespace: str
    config: LicensingConfigSource
    tokens: SecretTokenSource | None
    signing_key_secret: SigningKeySecret
    resource_watch: LicensingResourceWatch | None
    files: FileBackends
    options: ServeOptions
    clock: Callable[[], datetime]
    tls: TlsPems | None = None
    followed_entitlements: FollowedEntitlements | None = None
    entitlements_watch: EntitlementsConfigMapWatch | None = None
    upload_tokens: SecretTokenSource | None = None
    """The upload token's Secret (SPEC 10); ``None``: the data directory's file."""
    _closed: bool = False

    @property
    def entitlements(self) -> FollowedEntitlements:
        """The ConfigMap's entitlements, followed since the start; else ``--entitlements``."""
        return self.followed_entitlements or self.files.entitlements

    @property
    def credentials(self) -> str:
        """Whose credentials reach the API (for the start banner)."""
        return self.connection.description

    def open_api_tokens(self, data_dir: DataDir) -> KeptToken:
        """The token Secret, followed since the start; else ``--token-file``."""
        if self.tokens is not None:
            return self.tokens
        return self.files.open_api_tokens(data_dir)

    def open_upload_tokens(self, data_dir: DataDir) -> KeptToken:
        """The upload token's Secret, followed since the start; else the data directory's file."""
        if self.upload_tokens is not None:
            return self.upload_tokens
        return self.files.open_upload_tokens(data_dir)

    @property
    def signing_key(self) -> SigningKey:
        """The key of the signing key's Secret (read at the start)."""
        return self.signing_key_secret.load_or_create()

    def signing_key_store(self, data_dir: DataDir) -> SigningKeySecret:
        """The signing key's Secret (read at the start)."""
        del data_dir  # the key is kept in its Secret, not in the data directory
        return self.signing_key_secret

    def authenticator(self, tokens: TokenSource) -> Authenticator:
        """The API token, then service-account tokens (SPEC 4.5), both read live."""
        config = self.config
        service_accounts = ServiceAccountAuthenticator(
            KubernetesReviews(self.connection.api_client),
            enabled=lambda: config.current().kube_rbac_auth_enabled,
            clock=self.clock,
        )
        return AuthenticatorChain(
            ApiTokenAuthenticator(
                tokens, url_based_enabled=lambda: config.current().url_based_enabled
            ),
            service_accounts,
            limiter=FailedAttemptLimiter(),
            clock=self.clock,
        )

    def reporter_credentials(self) -> ReporterCredentials:
        """The Reporter's Secrets in the service's namespace; the files when given."""
        secrets = ReporterSecrets(self.connection.api_client, namespace=self.namespace)
        options = self.options
        return ReporterFiles(options.reporter_token_file, options.reporter_ca_file, secrets=secrets)

    def describe_token(self) -> str:
        """The token Secret, and a command that prints its token."""
        if self.tokens is None:
            return self.files.describe_token()
        secret = self.tokens.secret
        kubernetes = self.options.kubernetes
        if kubernetes is None or kubernetes.in_cluster:
            how = (
                f"kubectl get secret {secret.name} -n {secret.namespace} "
                "-o jsonpath='{.data.token}' | base64 -d"
            )
        else:
            # The context the service chose, so the command reaches the same cluster.
            context = kubernetes.context or self.connection.context
            flags = f" --kubeconfig {kubernetes.kubeconfig}" if kubernetes.kubeconfig else ""
            flags += f" --context {context}" if context else ""
            how = f"license-service token get{flags} --namespace {secret.namespace}"
        return f"in {self.tokens.label}; print it with: {how}"

    def describe_config(self) -> str | None:
        """The ``--config`` file, else the ``IBMLicensing`` resource."""
        if self.resource_watch is None:
            return self.files.describe_config()
        return "the IBMLicensing resource (the oldest; followed while running)"

    def collectors(self) -> tuple[Collector, ...]:
        """The metrics of every list+watch loop, for the metrics registry."""
        return (
            KubernetesMetricsCollector(
                snapshots=lambda: (
                    self.source.counters.snapshot(),
                    self.connection.counters.snapshot(),
                ),
                object_counts=self.source.object_counts,
                synced=lambda: self.source.current().synced,
            ),
        )

    def warnings(self) -> list[str]:
        """Failures to follow the Secret or the ``IBMLicensing`` resource, for ``/health``."""
        notes = []
        if self.resource_watch is not None and self.resource_watch.last_error:
            notes.append(f"following the IBMLicensing resource: {self.resource_watch.last_error}")
        if self.tokens is not None and (error := self.tokens.watch_error()):
            notes.append(f"following the API token {self.tokens.label}: {error}")
        if self.upload_tokens is not None and (error := self.upload_tokens.watch_error()):
            notes.append(f"following the upload token {self.upload_tokens.label}: {error}")
        watch = self.entitlements_watch
        if watch is not None and watch.last_error:
            notes.append(f"following the entitlements {watch.label}: {watch.last_error}")
        return [*notes, *self.entitlements.warnings()]

    def jobs(self, stop: asyncio.Event) -> dict[str, Job]:
        """The file watchers of ``--config``/``--token-file``, and a check that the watch
        threads (started by ``connect_kubernetes``) keep running."""
        return {**self.files.jobs(stop), "Kubernetes watches": self._kept_alive(stop)}

    def stopped_parts(self) -> list[str]:
        """The watch loops whose thread ended (none should before ``close``)."""
        stopped = [] if self.source.running else ["the Kubernetes collector"]
        if self.resource_watch is not None and not self.resource_watch.running:
            stopped.append("the watch of the IBMLicensing resource")
        if self.tokens is not None and not self.tokens.running:
            stopped.append(f"the watch of the API token {self.tokens.label}")
        if self.entitlements_watch is not None and not self.entitlements_watch.running:
            stopped.append(f"the watch of the entitlements {self.entitlements_watch.label}")
        if self.upload_tokens is not None and not self.upload_tokens.running:
            stopped.append(f"the watch of the upload token {self.upload_tokens.label}")
        return stopped

    def close(self) -> None:
        """Stop every watch and close the client (once)."""
        if self._closed:
            return
        self._closed = True
        stop_all(
            [
                self.source,
                self.resource_watch,
                self.tokens,
                self.upload_tokens,
                self.entitlements_watch,
            ]
        )
        self.connection.close()

    async def _kept_alive(self, stop: asyncio.Event) -> None:
        """Check every second that the watch threads run; raise when one ended before ``stop``.

        ``close`` stops them after the service's loop ends.
        """
        while not await stopped_while_waiting(stop, WATCH_EVERY_SECONDS, sleep=asyncio.sleep):
            stopped = await asyncio.to_thread(self.stopped_parts)
            if stopped:
                raise LicenseServiceError(f"{', '.join(stopped)} stopped running")


def stop_all(parts: list[Stoppable | None]) -> None:
    """Stop ``parts`` in the reverse order of their start; a failure is logged, not raised."""
    for part in reversed(parts):
        if part is None:
            continue
        try:
            part.stop()
        except Exception:
            logger.exception("Stopping %s failed", type(part).__name__)
