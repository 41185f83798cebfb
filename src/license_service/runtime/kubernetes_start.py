"""Starting the backends of a service measuring a live cluster: connected, started, checked.

``connect_kubernetes`` opens a client (the pod's service account in a pod; else a
kubeconfig: ``--kubeconfig``, else ``$KUBECONFIG``'s files, else ``~/.kube/config``,
with ``--context`` or the files' current context) and logs, first, which API server
and whose credentials it uses; then, in this order:

1. starts the collector (``KubernetesSource``: pods, nodes, namespaces), first
   because its initial list takes longest;
2. follows the ``IBMLicensing`` resource (unless ``--config`` names a file) and waits
   for its first list; an invalid resource at start stops the service, as an invalid
   ``--config`` does (starting on defaults could turn on URL tokens someone turned off);
3. decides the service's namespace: ``--namespace``, else the pod's own namespace
   (in a pod), else ``spec.instanceNamespace``, else ``ibm-common-services`` (the
   seed document's namespace); the namespace is fixed until the next start. A
   namespace the API server says does not exist stops the start at once with one
   line that says how to fix it (``ConfigurationError``): waiting would only repeat
   the failure to write its Secrets;
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
``KubernetesBackends`` the service is assembled with. Only a service measuring a
live cluster imports this module (and so the Kubernetes client, about a second).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from license_service.cluster.dumps import UNKNOWN_CLUSTER_ID
from license_service.cluster.kubernetes import KubernetesSource
from license_service.cluster.kubernetes.api_connection import ApiConnection
from license_service.cluster.kubernetes.connection import SERVICE_ACCOUNT_DIRECTORY
from license_service.cluster.kubernetes.pod_namespace import pod_namespace
from license_service.config_sources.resource_source import LicensingResourceConfig
from license_service.config_sources.source import LicensingConfigSource
from license_service.configuration.ibmlicensing import LicensingConfig
from license_service.entitlement_sources.followed import FollowedEntitlements
from license_service.errors import ClusterError, ConfigurationError
from license_service.metering.cluster_view import ClusterId
from license_service.runtime.backends import FileBackends
from license_service.runtime.kubernetes_backends import KubernetesBackends, Stoppable, stop_all
from license_service.runtime.options import KubernetesOptions, ServeOptions
from license_service.runtime.token_secret_sources import token_secret_source
from license_service.secrets.entitlements_configmap import EntitlementsConfigMapWatch
from license_service.secrets.licensing_resource import LicensingResourceWatch
from license_service.secrets.namespace import service_namespace
from license_service.signing.secret_store import SigningKeySecret
from license_service.tls.certificates import TlsPems, service_dns_names
from license_service.tls.secret_store import TlsSecret
from license_service.tokens.kinds import UPLOAD_TOKEN
from license_service.tokens.upload_config import (
    UploadConfigMap,
    upload_config_data,
    upload_url,
)

logger = logging.getLogger(__name__)

_POLL_SECONDS: Final = 0.05
_ENTITLEMENTS_WAIT_SECONDS: Final = 5.0


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
        connection = ApiConnection.from_kubeconfig(
            options.kubeconfig, context=options.context, environ=environ
        )
    logger.info(
        "Connecting to the Kubernetes API at %s with %s", connection.server, connection.description
    )
    started: list[Stoppable | None] = []
    try:
        source = connection.collector(
            cluster_id=ClusterId(options.cluster_id.strip()) if options.cluster_id else None,
            options=options.watch,
            clock=clock,
        )
        source.start()
        started.append(source)
        files = FileBackends(serve_options, clock=clock, in_kubernetes=True)
        config, resource_watch = _configuration(
            connection, files=files, options=options, clock=clock, deadline=deadline
        )
        started.append(resource_watch)
        pod = pod_namespace(service_account_directory) if options.in_cluster else None
        namespace = service_namespace(given=options.namespace, pod=pod, config=config.current())
        if connection.namespace_exists(namespace) is False:
            raise _missing_namespace(
                namespace, connection, given=options.namespace, pod=pod, config=config.current()
            )
        tokens = None
        if serve_options.token_file is None:
            tokens = token_secret_source(
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
        entitlements, entitlements_watch = _entitlements(
            connection,
            files=files,
            namespace=namespace,
            options=options,
            clock=clock,
            deadline=deadline,
        )
        started.append(entitlements_watch)
        upload_tokens = token_secret_source(
            connection,
            namespace=namespace,
            secret_name=UPLOAD_TOKEN.secret_name,
            options=options,
            grace_period=serve_options.token_grace_period,
            clock=clock,
            kind=UPLOAD_TOKEN,
        )
        upload_tokens.start()
        started.append(upload_tokens)
        if not upload_tokens.wait_ready(deadline.remaining()):
            raise _late(
                f"reading the upload token {upload_tokens.label}",
                upload_tokens.watch_error(),
                options,
            )
        signing_key_secret = SigningKeySecret(connection.api_client, namespace=namespace)
        signing_key_secret.load_or_create()  # now, so that a missing RBAC rule stops the start
        tls = None
        if config.current().https_enable and serve_options.tls is None:
            tls = TlsSecret(
                connection.api_client,
                namespace=namespace,
                custom=config.current().https_certs_source == "custom",
            ).load_or_create(now=clock())
        _write_upload_config(connection, namespace=namespace, options=serve_options, tls=tls)
        cluster_id = _cluster_id(source, deadline=deadline, options=options)
    except BaseException:
        stop_all(started)
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
        signing_key_secret=signing_key_secret,
        resource_watch=resource_watch,
        files=files,
        options=serve_options,
        clock=clock,
        tls=tls,
        followed_entitlements=entitlements,
        entitlements_watch=entitlements_watch,
        upload_tokens=upload_tokens,
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


def _entitlements(
    connection: ApiConnection,
    *,
    files: FileBackends,
    namespace: str,
    options: KubernetesOptions,
    clock: Callable[[], datetime],
    deadline: _Deadline,
) -> tuple[FollowedEntitlements | None, EntitlementsConfigMapWatch | None]:
    """``--entitlements`` when given (read by ``files``), else the followed ConfigMap.

    Entitlements change no measurement: a ConfigMap that cannot be read (RBAC, a bad
    document) does not stop the start; ``/health`` says why until it is fixed.
    """
    if files.entitlements_file is not None:
        return None, None
    entitlements = FollowedEntitlements(clock=clock)
    watch = EntitlementsConfigMapWatch(
        connection.api_client,
        namespace=namespace,
        on_text=lambda text, source: entitlements.receive(text, source=source),
        counters=connection.counters,
        options=options.watch,
        clock=clock,
    )
    watch.start()
    if not watch.wait_listed(min(deadline.remaining(), _ENTITLEMENTS_WAIT_SECONDS)):
        logger.warning(
            "The entitlements %s could not be read yet (%s); /compliance shows none until it is",
            watch.label,
            watch.last_error or "no answer",
        )
    return entitlements, watch


def _write_upload_config(
    connection: ApiConnection, *, namespace: str, options: ServeOptions, tls: TlsPems | None
) -> None:
    """ConfigMap ``ibm-licensing-upload-config`` (SPEC 10): the service's in-cluster URL,
    and with HTTPS the certificate to verify it by."""
    certificate = tls.certificate if tls is not None else None
    if certificate is None and options.tls is not None:
        certificate = options.tls.cert.read_bytes()
    host = service_dns_names(namespace)[2]  # <service>.<namespace>.svc
    url = upload_url(host=host, port=options.port, https=tls is not None or options.tls is not None)
    config_map = UploadConfigMap(connection.api_client, namespace=namespace)
    outcome = config_map.write(upload_config_data(url, certificate))
    if outcome != "unchanged":
        logger.info("Wrote %s (%s): uploaders send to %s", config_map.label, outcome, url)


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


def _missing_namespace(
    namespace: str,
    connection: ApiConnection,
    *,
    given: str | None,
    pod: str | None,
    config: LicensingConfig,
) -> ConfigurationError:
    if given:
        chosen = "given with --namespace"
    elif pod:
        chosen = "the pod's own"
    elif config.instance_namespace:
        chosen = "spec.instanceNamespace"
    else:
        chosen = "the default"
    return ConfigurationError(
        f"the service's namespace {namespace} ({chosen}) does not exist on the API server "
        f"{connection.server}; create it (`kubectl create namespace {namespace}`), or give "
        "the namespace to keep the service's Secrets in with --namespace"
    )


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
