"""The backends of a service measuring a live cluster: connected, started and checked at start.

``connect_kubernetes`` opens a client (the pod's service account by default, or a
kubeconfig with ``--kubeconfig``/``--context``), then, in this order:

1. starts the collector (``KubernetesSource``: pods, nodes, namespaces), first
   because its initial list takes longest;
2. follows the ``IBMLicensing`` resource (unless ``--config`` names a file) and waits
   for its first list; an invalid resource at start stops the service, as an invalid
   ``--config`` does (starting on defaults could turn on URL tokens someone turned off);
3. decides the service's namespace: ``--namespace``, else the pod's own namespace
   (in a pod), else ``spec.instanceNamespace``, else ``ibm-common-services`` (the
   seed document's namespace); the namespace is fixed until the next start;
4. follows the token Secret (unless ``--token-file`` names a file), creating it when
   missing, and waits for its first reading; a change of ``spec.apiSecretToken``
   moves the watch to the new Secret;
5. reads the signing key from Secret ``license-service-signing-key``, creating it once;
6. when ``spec.httpsEnable`` is true at start and no ``--tls-cert`` is given, reads
   the HTTPS certificate from its Secret (``tls.secret_store``: the operator's
   ``ibm-licensing-certs``, or the self-signed ``license-service-tls``, created once);
7. waits until the cluster id is known (``--cluster-id``, else the uid of
   ``kube-system``).

Every wait shares one deadline (``--startup-timeout``, 60 s); missing it raises
``ClusterError`` with the last failure (say, a missing RBAC rule), after stopping
whatever was started, so nothing is left running. The result is the
``KubernetesBackends`` the service is assembled with; ``close`` stops the watch
threads and closes the client, and may be called more than once. Only a service
measuring a live cluster imports this module (and so the Kubernetes client, about a
second).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final, Protocol

from prometheus_client.registry import Collector

from license_service.auth.authenticator_chain import AuthenticatorChain
from license_service.auth.authenticators import ApiTokenAuthenticator, Authenticator
from license_service.auth.failed_attempts import FailedAttemptLimiter
from license_service.auth.kubernetes_reviews import KubernetesReviews
from license_service.auth.service_accounts import ServiceAccountAuthenticator
from license_service.cluster.dumps import UNKNOWN_CLUSTER_ID
from license_service.cluster.kubernetes import KubernetesSource
from license_service.cluster.kubernetes.api_connection import ApiConnection
from license_service.cluster.kubernetes.connection import SERVICE_ACCOUNT_DIRECTORY
from license_service.cluster.kubernetes.pod_namespace import pod_namespace
from license_service.config_sources.resource_source import LicensingResourceConfig
from license_service.config_sources.source import LicensingConfigSource
from license_service.errors import ClusterError, ConfigurationError, LicenseServiceError
from license_service.metering.cluster_view import ClusterId
from license_service.runtime.backends import FileBackends
from license_service.runtime.options import KubernetesOptions, ServeOptions
from license_service.runtime.paths import DataDir
from license_service.runtime.periodic import WATCH_EVERY_SECONDS, Job, stopped_while_waiting
from license_service.secrets.licensing_resource import LicensingResourceWatch
from license_service.secrets.namespace import service_namespace
from license_service.signing.keys import SigningKey
from license_service.signing.secret_store import SigningKeySecret
from license_service.tls.certificates import TlsPems
from license_service.tls.secret_store import TlsSecret
from license_service.tokens.followed import KeptToken, TokenSource
from license_service.tokens.rules import generate_token
from license_service.tokens.secret_source import SecretTokenSource
from license_service.tokens.secret_store import TokenReading, TokenSecret, TokenSecretWatch
from license_service.web.kubernetes_metrics import KubernetesMetricsCollector

logger = logging.getLogger(__name__)

_POLL_SECONDS: Final = 0.05


class _Stoppable(Protocol):
    def stop(self) -> None: ...


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
    signing_key: SigningKey
    resource_watch: LicensingResourceWatch | None
    files: FileBackends
    options: ServeOptions
    clock: Callable[[], datetime]
    tls: TlsPems | None = None
    _closed: bool = False

    @property
    def credentials(self) -> str:
        """Whose credentials reach the API (for the start banner)."""
        return self.connection.description

    def open_api_tokens(self, data_dir: DataDir) -> KeptToken:
        """The token Secret, followed since the start; else ``--token-file``."""
        if self.tokens is not None:
            return self.tokens
        return self.files.open_api_tokens(data_dir)

    def open_signing_key(self, data_dir: DataDir) -> SigningKey:
        """The key of the signing key's Secret, read at the start."""
        del data_dir  # the key is kept in its Secret, not in the data directory
        return self.signing_key

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
            flags = f" --kubeconfig {kubernetes.kubeconfig}" if kubernetes.kubeconfig else ""
            flags += f" --context {kubernetes.context}" if kubernetes.context else ""
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
        return notes

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
        return stopped

    def close(self) -> None:
        """Stop every watch and close the client (once)."""
        if self._closed:
            return
        self._closed = True
        _stop_all([self.source, self.resource_watch, self.tokens])
        self.connection.close()

    async def _kept_alive(self, stop: asyncio.Event) -> None:
        """Check every second that the watch threads run; raise when one ended before ``stop``.

        ``close`` stops them after the service's loop ends.
        """
        while not await stopped_while_waiting(stop, WATCH_EVERY_SECONDS, sleep=asyncio.sleep):
            stopped = await asyncio.to_thread(self.stopped_parts)
            if stopped:
                raise LicenseServiceError(f"{', '.join(stopped)} stopped running")


def connect_kubernetes(
    serve_options: ServeOptions,
    *,
    clock: Callable[[], datetime],
    environ: Mapping[str, str] | None = None,
    service_account_directory: Path = SERVICE_ACCOUNT_DIRECTORY,
) -> KubernetesBackends:
    """Connect, start and check every Kubernetes part of ``serve_options.kubernetes``.

    ``--config`` and ``--token-file`` of ``serve_options``, when given, replace the
    ``IBMLicensing`` resource and the token Secret. See the module docstring.
    """
    options = serve_options.kubernetes or KubernetesOptions()
    deadline = _Deadline(options.startup_timeout)
    if options.in_cluster:
        connection = ApiConnection.in_cluster(
            environ=environ, service_account_directory=service_account_directory
        )
    else:
        connection = ApiConnection.from_kubeconfig(options.kubeconfig, context=options.context)
    started: list[_Stoppable | None] = []
    try:
        source = connection.collector(
            cluster_id=ClusterId(options.cluster_id.strip()) if options.cluster_id else None,
            options=options.watch,
            clock=clock,
        )
        source.start()
        started.append(source)
        files = FileBackends(serve_options, clock=clock)
        config, resource_watch = _configuration(
            connection, files=files, options=options, clock=clock, deadline=deadline
        )
        started.append(resource_watch)
        namespace = service_namespace(
            given=options.namespace,
            pod=pod_namespace(service_account_directory) if options.in_cluster else None,
            config=config.current(),
        )
        tokens = None
        if serve_options.token_file is None:
            tokens = _token_source(
                connection,
                namespace=namespace,
                secret_name=config.current().api_secret_token,
                options=options,
                grace_period=serve_options.token_grace_period,
                clock=clock,
            )
            tokens.start()
            started.append(tokens)
            if not tokens.wait_ready(deadline.remaining()):
                raise _late(f"reading the API token {tokens.label}", tokens.watch_error(), options)
            follow = tokens.use_secret
            config.add_listener(lambda changed: follow(changed.api_secret_token))
        signing_key = SigningKeySecret(connection.api_client, namespace=namespace).load_or_create()
        tls = None
        if config.current().https_enable and serve_options.tls is None:
            tls = TlsSecret(
                connection.api_client,
                namespace=namespace,
                custom=config.current().https_certs_source == "custom",
            ).load_or_create(now=clock())
        cluster_id = _cluster_id(source, deadline=deadline, options=options)
    except BaseException:
        _stop_all(started)
        connection.close()
        raise
    logger.info(
        "Measuring the cluster %s through the Kubernetes API (%s); the service's namespace is %s",
        cluster_id,
        connection.description,
        namespace,
    )
    return KubernetesBackends(
        connection=connection,
        source=source,
        cluster_id=cluster_id,
        namespace=namespace,
        config=config,
        tokens=tokens,
        signing_key=signing_key,
        resource_watch=resource_watch,
        files=files,
        options=serve_options,
        clock=clock,
        tls=tls,
    )


def _configuration(
    connection: ApiConnection,
    *,
    files: FileBackends,
    options: KubernetesOptions,
    clock: Callable[[], datetime],
    deadline: _Deadline,
) -> tuple[LicensingConfigSource, LicensingResourceWatch | None]:
    """``--config`` when given (read by ``files``), else the followed ``IBMLicensing`` resource."""
    if files.config.path is not None:
        return files.config, None
    config = LicensingResourceConfig(clock=clock)
    watch = LicensingResourceWatch(
        connection.api_client,
        on_document=config.receive,
        counters=connection.counters,
        options=options.watch,
        clock=clock,
    )
    watch.start()
    try:
        if not watch.wait_listed(deadline.remaining()):
            raise _late("reading the IBMLicensing resources", watch.last_error, options)
        if config.started_invalid:
            raise ConfigurationError(
                f"{config.problem()}; fix the resource (`kubectl edit ibmlicensing`) and start "
                "the service again"
            )
    except BaseException:
        watch.stop()
        raise
    return config, watch


def _token_source(
    connection: ApiConnection,
    *,
    namespace: str,
    secret_name: str,
    options: KubernetesOptions,
    grace_period: timedelta,
    clock: Callable[[], datetime],
) -> SecretTokenSource:
    def open_watch(name: str, on_reading: Callable[[TokenReading], None]) -> TokenSecretWatch:
        return TokenSecretWatch(
            TokenSecret(connection.api_client, namespace=namespace, name=name),
            on_reading=on_reading,
            new_token=generate_token,
            counters=connection.counters,
            options=options.watch,
            clock=clock,
        )

    where = "" if options.in_cluster else " --kubeconfig <file>"
    return SecretTokenSource(
        secret_name=secret_name,
        open_watch=open_watch,
        grace_period=grace_period,
        clock=clock,
        fix_hint=(
            f"write a valid token with `license-service token set{where} --namespace "
            f"{namespace} -`, or apply a Secret like the seed document's token.yml"
        ),
    )


def _cluster_id(
    source: KubernetesSource, *, deadline: _Deadline, options: KubernetesOptions
) -> ClusterId:
    pause = threading.Event()
    while (cluster_id := source.cluster_id) == UNKNOWN_CLUSTER_ID:
        if deadline.remaining() <= 0:
            raise _late(
                "reading the cluster id (the uid of namespace kube-system)",
                source.current().last_error,
                options,
                fix="give the id with --cluster-id, or grant list and watch on namespaces",
            )
        pause.wait(_POLL_SECONDS)
    return cluster_id


def _late(
    what: str, error: str | None, options: KubernetesOptions, *, fix: str | None = None
) -> ClusterError:
    seconds = options.startup_timeout.total_seconds()
    cause = f": {error}" if error else ": the API server did not answer"
    advice = fix or (
        "check that the API server is reachable and that the service account may do it "
        "(the service's ClusterRole and Role)"
    )
    return ClusterError(
        f"{what} did not succeed within {seconds:g} s (--startup-timeout){cause}; {advice}"
    )


class _Deadline:
    """One deadline shared by the waits of the start."""

    def __init__(self, timeout: timedelta) -> None:
        self._end = time.monotonic() + timeout.total_seconds()

    def remaining(self) -> float:
        """Seconds left (0 once passed)."""
        return max(0.0, self._end - time.monotonic())


def _stop_all(parts: list[_Stoppable | None]) -> None:
    for part in reversed(parts):
        if part is None:
            continue
        try:
            part.stop()
        except Exception:
            logger.exception("Stopping %s failed", type(part).__name__)
