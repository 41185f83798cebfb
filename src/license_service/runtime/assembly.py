"""Building the service from its options: every part created once, in order, and wired.

``assemble`` opens (in this order, so the cheapest mistakes are reported first)
the configuration, the data directory, the store, the API token file, the
signing key, the authenticator and the sampler, and gathers what the web layer
needs in an ``AppState``. Values that change while running are passed as
functions of the part that follows them: the sampler reads the metering settings
of the configuration in force at every tick, the authenticator whether URL
tokens are on at every request. Nothing starts running here (see ``service``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from license_service.audit.signing_keys import SigningKey
from license_service.auth.authenticators import ApiTokenAuthenticator
from license_service.auth.failed_attempts import FailedAttemptLimiter
from license_service.auth.token_source import TokenFile
from license_service.cluster.source import ClusterSource, ClusterState
from license_service.configuration.ibmlicensing import LicensingConfig
from license_service.metering.cluster_view import ClusterId
from license_service.runtime.config_watcher import LicensingConfigWatcher
from license_service.runtime.log_configuration import set_level
from license_service.runtime.options import ServeOptions
from license_service.runtime.paths import DataDir
from license_service.runtime.servers import check_tls_files
from license_service.sampling.sampler import Sampler
from license_service.store.database import Database
from license_service.store.retention import DEFAULT_PEAK_DAYS, DEFAULT_SAMPLE_DAYS
from license_service.web.app_state import AppState
from license_service.web.version_info import version_info_from

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


@dataclass(frozen=True, slots=True)
class Service:
    """Every part of one running service, built by ``assemble``."""

    options: ServeOptions
    data_dir: DataDir
    database: Database
    tokens: TokenFile
    config: LicensingConfigWatcher
    signing_key: SigningKey
    authenticator: ApiTokenAuthenticator
    cluster: ClusterChoice
    sampler: Sampler
    state: AppState
    clock: Clock

    def close(self) -> None:
        """Release the store's connections."""
        self.database.dispose()


def assemble(
    options: ServeOptions,
    *,
    cluster: ClusterChoice,
    clock: Clock = utc_now,
    environ: Mapping[str, str] | None = None,
) -> Service:
    """Build every part of the service from ``options``; raises the first unusable part's error."""
    options.check()
    if options.tls is not None:
        check_tls_files(options.tls)
    config = LicensingConfigWatcher.load(
        options.config_file, clock=clock, on_change=_log_level_follower(options)
    )
    if options.log_level is None:
        set_level(config.current().log_level)
    data_dir = DataDir(options.data_dir)
    data_dir.create()
    database = Database.open(options.database_url or data_dir.database_url)
    try:
        tokens = TokenFile(
            options.token_file or data_dir.token_file,
            generate_if_missing=options.token_file is None,
            grace_period=options.token_grace_period,
            clock=clock,
        )
        signing_key = SigningKey.load_or_create(data_dir.signing_key_file)
        authenticator = ApiTokenAuthenticator(
            tokens,
            url_based_enabled=lambda: config.current().url_based_enabled,
            limiter=FailedAttemptLimiter(),
            clock=clock,
        )
        sampler = Sampler(
            cluster.source,
            database,
            settings=lambda: config.current().metering,
            clock=clock,
            interval=options.sample_interval,
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
        health_warnings=_warnings_reader(config, options),
        signing_key=signing_key,
        clock=clock,
        version=version_info_from(os.environ if environ is None else environ),
        retention_sample_days=DEFAULT_SAMPLE_DAYS,
        retention_peak_days=DEFAULT_PEAK_DAYS,
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
    )


def _log_level_follower(options: ServeOptions) -> Callable[[LicensingConfig], None] | None:
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
    config: LicensingConfigWatcher, options: ServeOptions
) -> Callable[[], list[str]]:
    notes = []
    if config.current().https_enable and options.tls is None:
        notes.append(
            "spec.httpsEnable is true but no --tls-cert/--tls-key was given: outside "
            "Kubernetes the API is served over plain HTTP until both are given"
        )
    return lambda: [*config.warnings(), *notes]
