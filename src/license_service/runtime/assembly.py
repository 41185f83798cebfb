"""Building the service from its options: every part created once, in order, and wired.

``assemble`` opens (in this order, so the cheapest mistakes are reported first)
the configuration, the data directory, the store, the API token, the signing
key, the authenticator and the sampler, and gathers what the web layer needs in
an ``AppState``. Values that change while running are passed as functions of the
part that follows them: the sampler reads the metering settings of the
configuration in force at every tick, the authenticator whether URL tokens are on
at every request. Nothing starts running here (see ``service``).

Measuring a live cluster, the caller first connects (``kubernetes_parts``) and
passes the ``KubernetesParts``: the configuration then comes from the
``IBMLicensing`` resource (unless ``--config``), the token from its Secret (unless
``--token-file``), the signing key from its Secret, and the collector's figures and
watch failures join ``/metrics`` and ``/health``. Without them, the configuration
is ``--config`` (or the defaults) and the token and key live in the data directory.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeAlias

from license_service.audit.signing_keys import SigningKey
from license_service.auth.authenticator_chain import AuthenticatorChain
from license_service.auth.authenticators import ApiTokenAuthenticator, Authenticator
from license_service.auth.failed_attempts import FailedAttemptLimiter
from license_service.auth.service_accounts import ServiceAccountAuthenticator
from license_service.auth.token_source import TokenFile
from license_service.cluster.source import ClusterSource, ClusterState
from license_service.metering.cluster_view import ClusterId
from license_service.runtime.config_source import LicensingConfigSource, OnChange
from license_service.runtime.config_watcher import LicensingConfigWatcher
from license_service.runtime.log_configuration import set_level
from license_service.runtime.options import ServeOptions, TlsFiles
from license_service.runtime.paths import DataDir
from license_service.runtime.servers import check_tls_files
from license_service.runtime.store_start import open_service_store
from license_service.runtime.tls_files import served_tls_files
from license_service.sampling.sampler import Sampler
from license_service.sampling.unrecorded_misses import FILE_NAME as UNRECORDED_MISSES_FILE
from license_service.sampling.unrecorded_misses import UnrecordedMisses
from license_service.store.database import Database
from license_service.store.retention import DEFAULT_PEAK_DAYS, DEFAULT_SAMPLE_DAYS
from license_service.web.app_state import AppState
from license_service.web.version_info import version_info_from

if TYPE_CHECKING:
    # The Kubernetes client takes about a second to import: a service measuring dump
    # files, and the demo, never load it.
    from license_service.runtime.kubernetes_parts import KubernetesParts
    from license_service.runtime.secret_tokens import SecretTokenSource

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, timezone-aware UTC: the service's clock."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ClusterChoice:
    """The cluster the service measures: its source, id and name.

    ``check`` (for dump files) is called by a watcher every second to follow changes.
    """

    source: ClusterSource
    cluster_id: ClusterId
    cluster_name: str
    check: Callable[[], object] | None = None


if TYPE_CHECKING:
    ApiTokens: TypeAlias = TokenFile | SecretTokenSource
    """Where the API token is read: a file (data directory, ``--token-file``) or its Secret."""


@dataclass(frozen=True, slots=True)
class Service:
    """Every part of one running service, built by ``assemble``.

    ``kubernetes`` holds the watches of a live cluster (``None`` for dumps and the demo);
    ``tls`` the files the API is served with over HTTPS (``None``: plain HTTP).
    """

    options: ServeOptions
    data_dir: DataDir
    database: Database
    tokens: ApiTokens
    config: LicensingConfigSource
    signing_key: SigningKey
    authenticator: Authenticator
    cluster: ClusterChoice
    sampler: Sampler
    state: AppState
    clock: Clock
    kubernetes: KubernetesParts | None = None
    tls: TlsFiles | None = None

    @property
    def scheme(self) -> str:
        """``https`` when the API is served with TLS files, else ``http``."""
        return "https" if self.tls is not None else "http"

    @property
    def token_place(self) -> str:
        """Where the API token is kept: the file's path, or ``Secret <namespace>/<name>``."""
        if isinstance(self.tokens, TokenFile):
            return str(self.tokens.path)
        return self.tokens.label

    def close(self) -> None:
        """Stop the Kubernetes watches (if any) and release the store's connections."""
        try:
            if self.kubernetes is not None:
                self.kubernetes.close()
        finally:
            self.database.dispose()


def assemble(
    options: ServeOptions,
    *,
    cluster: ClusterChoice,
    kubernetes: KubernetesParts | None = None,
    clock: Clock = utc_now,
    environ: Mapping[str, str] | None = None,
) -> Service:
    """Build every part of the service from ``options``; raises the first unusable part's error.

    ``kubernetes`` (already connected) supplies the configuration, token and signing
    key of a live cluster; the caller keeps closing it if this raises.
    """
    options.check()
    if options.tls is not None:
        check_tls_files(options.tls)
    config: LicensingConfigSource = (
        kubernetes.config
        if kubernetes is not None
        else LicensingConfigWatcher.load(options.config_file, clock=clock)
    )
    follower = _log_level_follower(options)
    if follower is not None:
        config.add_listener(follower)
    if options.log_level is None:
        set_level(config.current().log_level)
    data_dir = DataDir(options.data_dir)
    data_dir.create()
    tls = served_tls_files(
        options.tls,
        https_enable=config.current().https_enable,
        data_dir=data_dir,
        secret_pems=kubernetes.tls if kubernetes is not None else None,
        clock=clock,
    )
    if tls is not None and tls != options.tls:
        check_tls_files(tls)
    database = open_service_store(
        data_dir.root,
        database_url=options.database_url or data_dir.database_url,
        start_over=options.start_over,
        clock=clock,
    )
    try:
        tokens = _api_tokens(options, data_dir=data_dir, kubernetes=kubernetes, clock=clock)
        signing_key = (
            kubernetes.signing_key
            if kubernetes is not None
            else SigningKey.load_or_create(data_dir.signing_key_file)
        )
        authenticator = _authenticator(tokens, config, kubernetes=kubernetes, clock=clock)
        sampler = Sampler(
            cluster.source,
            database,
            settings=lambda: config.current().metering,
            clock=clock,
            interval=options.sample_interval,
            kept_misses=UnrecordedMisses(data_dir.root / UNRECORDED_MISSES_FILE),
        )
    except BaseException:
        database.dispose()
        raise
    state = AppState(
        database=database,
        cluster_id=cluster.cluster_id,
        cluster_name=cluster.cluster_name,
        sampler_status=sampler.status,
        source_state=_state_reader(cluster.source),
        authenticator=authenticator,
        licensing=config.current,
        health_warnings=_warnings_reader(
            config, https_at_start=config.current().https_enable, kubernetes=kubernetes
        ),
        signing_key=signing_key,
        clock=clock,
        version=version_info_from(os.environ if environ is None else environ),
        retention_sample_days=DEFAULT_SAMPLE_DAYS,
        retention_peak_days=DEFAULT_PEAK_DAYS,
        extra_collectors=kubernetes.collectors() if kubernetes is not None else (),
    )
    return Service(
        options=options,
        data_dir=data_dir,
        database=database,
        tokens=tokens,
        config=config,
        signing_key=signing_key,
        authenticator=authenticator,
        cluster=cluster,
        sampler=sampler,
        state=state,
        clock=clock,
        kubernetes=kubernetes,
        tls=tls,
    )


def _authenticator(
    tokens: ApiTokens,
    config: LicensingConfigSource,
    *,
    kubernetes: KubernetesParts | None,
    clock: Clock,
) -> Authenticator:
    """The API token, and in a live cluster service-account tokens (SPEC 4.5), both read live.

    Without a cluster there are no service accounts: the API token alone decides, and
    its refusals keep their own wording.
    """

    def url_based_enabled() -> bool:
        return config.current().url_based_enabled

    if kubernetes is None:
        return ApiTokenAuthenticator(
            tokens, url_based_enabled=url_based_enabled, limiter=FailedAttemptLimiter(), clock=clock
        )
    from license_service.auth.kubernetes_reviews import KubernetesReviews  # noqa: PLC0415

    service_accounts = ServiceAccountAuthenticator(
        KubernetesReviews(kubernetes.connection.api_client),
        enabled=lambda: config.current().kube_rbac_auth_enabled,
        clock=clock,
    )
    return AuthenticatorChain(
        ApiTokenAuthenticator(tokens, url_based_enabled=url_based_enabled),
        service_accounts,
        limiter=FailedAttemptLimiter(),
        clock=clock,
    )


def _api_tokens(
    options: ServeOptions,
    *,
    data_dir: DataDir,
    kubernetes: KubernetesParts | None,
    clock: Clock,
) -> ApiTokens:
    """The token Secret in a live cluster, else ``--token-file``, else the data directory's."""
    if kubernetes is not None and kubernetes.tokens is not None:
        return kubernetes.tokens
    return TokenFile(
        options.token_file or data_dir.token_file,
        generate_if_missing=options.token_file is None,
        grace_period=options.token_grace_period,
        clock=clock,
    )


def _log_level_follower(options: ServeOptions) -> OnChange | None:
    """Follow ``spec.logLevel`` while running, unless ``--log-level`` fixed the level."""
    if options.log_level is not None:
        return None
    return lambda config: set_level(config.log_level)


def _state_reader(source: ClusterSource) -> Callable[[], ClusterState | None]:
    def read() -> ClusterState | None:
        # /health must answer even when a source is broken: it then says so.
        try:
            return source.current()
        except Exception:
            logger.exception("Reading the state of the cluster source failed")
            return None

    return read


def _warnings_reader(
    config: LicensingConfigSource,
    *,
    https_at_start: bool,
    kubernetes: KubernetesParts | None,
) -> Callable[[], list[str]]:
    def https_note() -> list[str]:
        # TLS is set up at start only (SPEC 6): say so while the configuration differs.
        now = config.current().https_enable
        if now == https_at_start:
            return []
        shown = "true" if now else "false"
        return [f"spec.httpsEnable changed to {shown} while running: it applies at the next start"]

    if kubernetes is None:
        return lambda: [*config.warnings(), *https_note()]
    return lambda: [*config.warnings(), *kubernetes.warnings(), *https_note()]
