"""Running the Reporter (SPEC 11): its database, token, signing key and HTTP server.

Stateless apart from the database, so replicas can share one PostgreSQL; a SQLite file
is allowed for a trial, with a warning. The Reporter token is the data directory's
``token`` file (generated, mode 0600) or ``--token-file``, under SPEC 4's rules, re-read
every 2 seconds so a changed token is used without a restart; the data directory also
keeps the Reporter's own signing key (``signing-key.pem``), which signs its ``/snapshot``.
``--entitlements FILE`` (the fleet's ``/compliance``) is read at start, where an invalid
one stops the Reporter, and re-read with the token.
"""

from __future__ import annotations

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
from license_service.cluster.kubernetes.connection import (
    in_cluster_api_client,
    kubeconfig_api_client,
)
from license_service.entitlement_sources.file_source import EntitlementsFile
from license_service.entitlement_sources.followed import FollowedEntitlements
from license_service.fleet.fleet_schema import open_fleet_database
from license_service.runtime.log_configuration import redacting
from license_service.signing.file_store import SIGNING_KEY_FILE, SigningKeyFile
from license_service.store.database import Database
from license_service.tls.file_store import TlsFiles
from license_service.tokens.file_source import TokenFile
from license_service.tokens.followed import TokenSource
from license_service.tokens.kinds import REPORTER_TOKEN
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
    """Where service-account tokens are reviewed from outside a pod (in one: its own)."""
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


def run_reporter(options: ReporterOptions, *, environ: Mapping[str, str]) -> None:
    """Serve the Reporter until SIGINT or SIGTERM; ``ConfigurationError`` for an invalid
    ``--entitlements`` file, before anything is opened."""
    clock = functools.partial(datetime.now, UTC)
    entitlements = (
        EntitlementsFile.load(options.entitlements_file, clock=clock)
        if options.entitlements_file is not None
        else FollowedEntitlements(clock=clock)
    )
    options.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    database = open_reporter_database(options.database_url)
    tokens = TokenFile(
        options.token_file or options.data_dir / REPORTER_TOKEN.file_name,
        generate_if_missing=options.token_file is None,
        grace_period=timedelta(0),
        clock=lambda: datetime.now(UTC),
        kind=REPORTER_TOKEN,
    )
    key = SigningKeyFile(options.data_dir / SIGNING_KEY_FILE).load_or_create()
    state = ReporterState(
        database=database,
        authenticator=reporter_authenticator(tokens, _kubernetes_client(options, environ)),
        version=version_info_from(environ),
        entitlements=entitlements.current,
        signing_key=key,
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
    )
    stop = threading.Event()
    checks = [tokens.refresh]
    if isinstance(entitlements, EntitlementsFile):
        checks.append(entitlements.check)
    poller = threading.Thread(target=_follow, args=(checks, stop), daemon=True)
    poller.start()
    scheme = "https" if options.tls else "http"
    logger.info(
        "Reporter listening on %s://%s:%d, database %s, token in %s, signing key %s",
        scheme,
        options.host,
        options.port,
        database.url,
        tokens.place,
        key.fingerprint,
    )
    try:
        with redacting(lambda: tokens.current().tokens):
            uvicorn.Server(config).run()
    finally:
        stop.set()
        database.dispose()


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


def _kubernetes_client(options: ReporterOptions, environ: Mapping[str, str]) -> object | None:
    """The client that reviews service-account tokens: the pod's, ``--kubeconfig``'s, or none."""
    if options.kubeconfig is not None:
        return kubeconfig_api_client(options.kubeconfig, environ=environ)
    if environ.get("KUBERNETES_SERVICE_HOST"):
        return in_cluster_api_client(environ=environ)
    return None


def _follow(checks: Sequence[Callable[[], object]], stop: threading.Event) -> None:
    """Re-read the token file (and the entitlements file) until ``stop``: a new valid one
    is used within seconds; an invalid entitlements edit keeps the previous ones."""
    while not stop.wait(TOKEN_POLL_SECONDS):
        for check in checks:
            try:
                check()
            except Exception:  # never end the poller: the next round tries again
                logger.exception("Re-reading the Reporter's token or entitlements failed")
