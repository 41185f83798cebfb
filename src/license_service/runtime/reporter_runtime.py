"""Running the Reporter (SPEC 11): its database, token, signing key and HTTP server.

Stateless apart from the database, so replicas can share one PostgreSQL (each told of
the others' writes, ``Database.notify_other_replicas``, so none answers a kept report
body from before another's write); a SQLite file is allowed for a trial, with a warning.
The Reporter token, under SPEC 4's rules, is kept in ``--token-file``, else (in a pod,
or given ``--kubeconfig``) in Secret ``ibm-license-service-reporter-token`` of its
namespace, else in the data directory's ``token`` file (``reporter_tokens`` says which
and why); a file is re-read every 2 seconds and the Secret watched, so a changed token
is used without a restart. The Reporter's own signing key, which signs its
``/snapshot``, is kept in a cluster in Secret ``license-service-reporter-signing-key``
of that namespace (one key for every replica), else in the data directory
(``signing-key.pem``); created once when missing. ``--entitlements FILE`` (the fleet's
``/compliance``) is read at start, where an invalid one stops the Reporter, and re-read
with the token file. Its HTTP connections are guarded as ``serve``'s API is
(``guarded_connections``: a request head, and a TLS handshake, within the head timeout;
a cap on connections and requests in progress).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, cast

import uvicorn

from license_service.auth.authenticator_chain import AuthenticatorChain
from license_service.auth.authenticators import ApiTokenAuthenticator, Authenticator
from license_service.auth.failed_attempts import FailedAttemptLimiter
from license_service.auth.kubernetes_reviews import KubernetesReviews
from license_service.auth.service_accounts import ServiceAccountAuthenticator
from license_service.cluster.kubernetes.api_connection import ApiConnection
from license_service.cluster.kubernetes.connection import SERVICE_ACCOUNT_DIRECTORY
from license_service.cluster.kubernetes.pod_namespace import pod_namespace
from license_service.entitlement_sources.file_source import EntitlementsFile
from license_service.entitlement_sources.followed import FollowedEntitlements
from license_service.fleet.fleet_schema import open_fleet_database
from license_service.runtime.connection_limits import (
    ACCEPT_BACKLOG,
    process_fd_limit,
    server_limits,
)
from license_service.runtime.guarded_connections import ConnectionGuard
from license_service.runtime.log_configuration import redacting
from license_service.runtime.options import DEFAULT_STARTUP_TIMEOUT, KubernetesOptions
from license_service.runtime.reporter_tokens import (
    ReporterTokenSource,
    file_token_source,
    reporter_namespace,
    started_secret_token_source,
)
from license_service.runtime.resource_shortage import ResourceShortage
from license_service.runtime.servers import StandaloneServer
from license_service.signing.file_store import SIGNING_KEY_FILE, SigningKeyFile
from license_service.signing.keys import SigningKey
from license_service.signing.secret_store import REPORTER_SIGNING_KEY_SECRET, SigningKeySecret
from license_service.store.database import Database
from license_service.tls.file_store import TlsFiles
from license_service.tokens.file_source import TokenFile
from license_service.tokens.followed import TokenSource
from license_service.tokens.kinds import REPORTER_TOKEN
from license_service.tokens.secret_source import SecretTokenSource
from license_service.web.probes.version_info import version_info_from
from license_service.web.reporter.reporter_app import create_reporter_app
from license_service.web.reporter.reporter_state import ReporterState

logger = logging.getLogger(__name__)

TOKEN_POLL_SECONDS: Final = 2.0


@dataclass(frozen=True, slots=True)
class ReporterOptions:
    """What ``license-service reporter`` was told."""

    database_url: str
    data_dir: Path
    host: str
    port: int
    token_file: Path | None = None
    tls: TlsFiles | None = None
    kubeconfig: Path | None = None
    """The cluster reached from outside a pod (in one: its own): service-account tokens are
    reviewed by it, and the token is its Secret unless ``token_file`` is given."""
    namespace: str | None = None
    """Where the token Secret lives; ``None``: the pod's own, else ``ibm-common-services``."""
    startup_timeout: timedelta = DEFAULT_STARTUP_TIMEOUT
    """How long the start waits for the token Secret to be read."""
    entitlements_file: Path | None = None
    """``--entitlements FILE`` (SPEC 13), for the fleet's ``/compliance``; none without it."""


def open_reporter_database(url: str) -> Database:
    """The Reporter's database; a SQLite one is warned about (a trial only)."""
    database = open_fleet_database(url)
    if database.dialect == "sqlite":
        logger.warning(
            "The Reporter's database %s is a SQLite file: fine for a trial, but one replica "
            "only and not for production; use a PostgreSQL --database-url",
            database.url,
        )
    return database


def run_reporter(
    options: ReporterOptions,
    *,
    environ: Mapping[str, str],
    service_account_directory: Path = SERVICE_ACCOUNT_DIRECTORY,
) -> None:
    """Serve the Reporter until SIGINT or SIGTERM; ``ConfigurationError`` for an invalid
    ``--entitlements`` file, before anything is opened; ``ClusterError`` when the token
    Secret cannot be read at start."""
    clock = functools.partial(datetime.now, UTC)
    entitlements = (
        EntitlementsFile.load(options.entitlements_file, clock=clock)
        if options.entitlements_file is not None
        else FollowedEntitlements(clock=clock)
    )
    options.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Whatever was opened is closed again in reverse, also when a later step fails.
    with contextlib.ExitStack() as opened:
        connection = _kubernetes_connection(options, environ, service_account_directory)
        namespace = None
        if connection is not None:
            opened.callback(connection.close)
            in_pod = options.kubeconfig is None
            pod = pod_namespace(service_account_directory) if in_pod else None
            namespace = reporter_namespace(given=options.namespace, pod=pod)
        tokens = _token_source(options, connection, namespace, clock)
        if isinstance(tokens, SecretTokenSource):
            opened.callback(tokens.stop)
        key = _signing_key(options, connection, namespace)
        database = open_reporter_database(options.database_url)
        opened.callback(database.dispose)
        # Replicas and CLI commands (trust, import) write the same tables: each one's
        # write drops every replica's kept report bodies (SPEC 12).
        if database.dialect == "postgresql":
            database.notify_other_replicas()
        else:
            database.notice_file_writes()
        state = ReporterState(
            database=database,
            authenticator=reporter_authenticator(
                tokens, connection.api_client if connection is not None else None
            ),
            version=version_info_from(environ),
            entitlements=entitlements.current,
            signing_key=key,
        )
        shortage = ResourceShortage()
        guard = ConnectionGuard(
            server_limits(process_fd_limit()).api, name="reporter", shortage=shortage
        )
        config = uvicorn.Config(
            create_reporter_app(state),
            host=options.host,
            port=options.port,
            access_log=False,
            log_config=None,
            proxy_headers=False,
            server_header=False,
            ws="none",
            lifespan="off",
            ssl_certfile=str(options.tls.cert) if options.tls else None,
            ssl_keyfile=str(options.tls.key) if options.tls else None,
            # Guarded as ``serve``'s API: it faces many clusters and people.
            http=guard.protocol(),
            backlog=ACCEPT_BACKLOG,
        )
        stop = threading.Event()
        opened.callback(stop.set)
        checks: list[Callable[[], object]] = []
        if isinstance(tokens, TokenFile):
            checks.append(tokens.refresh)
        if isinstance(entitlements, EntitlementsFile):
            checks.append(entitlements.check)
        threading.Thread(target=_follow, args=(checks, stop), daemon=True).start()
        logger.info(
            "Reporter listening on %s://%s:%d, database %s, token in %s, signing key %s",
            "https" if options.tls else "http",
            options.host,
            options.port,
            database.url,
            tokens.place,
            key.fingerprint,
        )
        with redacting(lambda: tokens.current().tokens):
            StandaloneServer(config, shortage=shortage).run()


def reporter_authenticator(tokens: TokenSource, api_client: object | None) -> Authenticator:
    """The Reporter token (``?token=`` or Bearer); with a Kubernetes client, then a
    service-account token reviewed by Kubernetes (TokenReview, SubjectAccessReview on the
    path), SPEC 4.5's rules: never allowed on error; failed attempts of both slowed."""
    clock = functools.partial(datetime.now, UTC)
    api_tokens = ApiTokenAuthenticator(tokens, url_based_enabled=lambda: True, kind=REPORTER_TOKEN)
    if api_client is None:
        return AuthenticatorChain(api_tokens, limiter=FailedAttemptLimiter(), clock=clock)
    service_accounts = ServiceAccountAuthenticator(
        KubernetesReviews(cast(Any, api_client)), enabled=lambda: True, clock=clock
    )
    return AuthenticatorChain(
        api_tokens, service_accounts, limiter=FailedAttemptLimiter(), clock=clock
    )


def _kubernetes_connection(
    options: ReporterOptions, environ: Mapping[str, str], service_account_directory: Path
) -> ApiConnection | None:
    """The cluster the Reporter lives in: ``--kubeconfig``'s, the pod's, or none."""
    if options.kubeconfig is not None:
        return ApiConnection.from_kubeconfig(options.kubeconfig, context=None, environ=environ)
    if environ.get("KUBERNETES_SERVICE_HOST"):
        return ApiConnection.in_cluster(
            environ=environ, service_account_directory=service_account_directory
        )
    return None


def _token_source(
    options: ReporterOptions,
    connection: ApiConnection | None,
    namespace: str | None,
    clock: Callable[[], datetime],
) -> ReporterTokenSource:
    """``--token-file``, else the Secret of the cluster, else the data directory's file."""
    if options.token_file is not None or connection is None or namespace is None:
        return file_token_source(
            token_file=options.token_file, data_dir=options.data_dir, clock=clock
        )
    kubernetes = KubernetesOptions(
        kubeconfig=options.kubeconfig,
        namespace=options.namespace,
        startup_timeout=options.startup_timeout,
    )
    return started_secret_token_source(
        connection, options=kubernetes, namespace=namespace, clock=clock
    )


def _signing_key(
    options: ReporterOptions, connection: ApiConnection | None, namespace: str | None
) -> SigningKey:
    """The Reporter's own key: in a cluster its Secret (one key for every replica, kept
    across restarts), else the data directory's file; created once when missing."""
    if connection is None or namespace is None:
        return SigningKeyFile(options.data_dir / SIGNING_KEY_FILE).load_or_create()
    return SigningKeySecret(
        connection.api_client, namespace=namespace, name=REPORTER_SIGNING_KEY_SECRET
    ).load_or_create()


def _follow(checks: Sequence[Callable[[], object]], stop: threading.Event) -> None:
    """Re-read the token file (and the entitlements file) until ``stop``: a new valid one
    is used within seconds; an invalid entitlements edit keeps the previous ones."""
    while not stop.wait(TOKEN_POLL_SECONDS):
        for check in checks:
            try:
                check()
            except Exception:  # never end the poller: the next round tries again
                logger.exception("Re-reading the Reporter's token or entitlements failed")
