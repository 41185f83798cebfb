"""The composition root: building the service from its options and its backends, in order.

``assemble`` opens (in this order, so the cheapest mistakes are reported first) the
configuration, the data directory (and its lock: one service per directory), the HTTPS
files, the store, the API token, the signing key, the authenticator and the sampler,
and gathers what the web layer needs in an ``AppState``. Where each concern is kept is
the ``Backends``' business (``backends``): files, or a live cluster's Secrets and
resource (connected first by ``kubernetes_start.connect_kubernetes``); this module asks
them for each part in turn and never asks which ones it has. Values that change while
running are passed as functions of the part that follows them: the sampler reads the
metering settings of the configuration in force at every tick, the authenticator
whether URL tokens are on at every request. Nothing starts running here (see
``service``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from license_service.auth.failed_attempts import FailedAttemptLimiter
from license_service.auth.upload_token import UploadTokenAuthenticator
from license_service.cluster.source import ClusterSource, ClusterState
from license_service.config_sources.source import LicensingConfigSource, OnChange
from license_service.fleet.push_format import ClusterIdentity
from license_service.metering.cluster_view import ClusterId
from license_service.reporting.sender import Sender
from license_service.reporting.sender_target import target_reader
from license_service.runtime.backends import Backends, FileBackends
from license_service.runtime.data_dir_lock import DatabaseFileLock, DataDirLock
from license_service.runtime.leader_view_sharing import LeaderViewPublisher, reader_for
from license_service.runtime.log_configuration import set_level
from license_service.runtime.options import ServeOptions
from license_service.runtime.paths import DataDir
from license_service.runtime.store_start import open_service_store
from license_service.sampling.replica_status import StoredSampleView, replica_sampler_status
from license_service.sampling.sampler import Sampler
from license_service.sampling.status import SamplerStatus
from license_service.sampling.unrecorded_misses import FILE_NAME as UNRECORDED_MISSES_FILE
from license_service.sampling.unrecorded_misses import UnrecordedMisses
from license_service.signing.keys import SigningKey
from license_service.store.database import Database, sqlite_file_of
from license_service.store.retention import DEFAULT_PEAK_DAYS, DEFAULT_SAMPLE_DAYS
from license_service.tls.file_store import TlsFiles, check_tls_files, served_tls_files
from license_service.tokens.followed import KeptToken
from license_service.web.app_state import AppState
from license_service.web.probes.version_info import version_info_from

if TYPE_CHECKING:
    from license_service.runtime.leader_start import ReplicaElection

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
    """Every part of one running service, built by ``assemble``.

    ``backends`` keep the configuration, token, key and certificate (files, or a live
    cluster's watches); ``lock`` keeps other services off the data directory;
    ``tls`` the files the API is served with (``None``: plain HTTP).
    """

    options: ServeOptions
    data_dir: DataDir
    database: Database
    tokens: KeptToken
    config: LicensingConfigSource
    signing_key: SigningKey
    cluster: ClusterChoice
    sampler: Sampler
    state: AppState
    clock: Clock
    backends: Backends
    lock: DataDirLock
    database_lock: DatabaseFileLock | None = None
    """The SQLite database's own lock (``None``: PostgreSQL, which replicas share)."""
    tls: TlsFiles | None = None
    election: ReplicaElection | None = None
    """With several replicas: this replica's part in the leader election (SPEC 12)."""
    upload_tokens: KeptToken | None = None
    sender: Sender | None = None
    """Pushes to the Reporter (SPEC 11) while this replica leads; idle when none is set."""
    leader_view: LeaderViewPublisher | None = None
    """With several replicas: shares what only the leader knows of ``/health`` (SPEC 12)."""

    @property
    def secrets_in_force(self) -> tuple[str, ...]:
        """The tokens in use now, API, upload and Reporter: never to appear in a log line."""
        uploads = self.upload_tokens.current().tokens if self.upload_tokens else ()
        reporter = self.sender.secrets() if self.sender else ()
        return (*self.tokens.current().tokens, *uploads, *reporter)

    @property
    def scheme(self) -> str:
        """``https`` when the API is served with TLS files, else ``http``."""
        return "https" if self.tls is not None else "http"

    @property
    def token_place(self) -> str:
        """Where the API token is kept: the file's path, or ``Secret <namespace>/<name>``."""
        return self.tokens.place

    def close(self) -> None:
        """Stop following the backends, release the store's connections, then the data dir."""
        try:
            if self.election is not None:
                self.election.close()
            self.backends.close()
        finally:
            try:
                self.database.dispose()
            finally:
                try:
                    if self.database_lock is not None:
                        self.database_lock.release()
                finally:
                    self.lock.release()


def assemble(
    options: ServeOptions,
    *,
    cluster: ClusterChoice,
    backends: Backends | None = None,
    clock: Clock = utc_now,
    environ: Mapping[str, str] | None = None,
    lock: DataDirLock | None = None,
    election: ReplicaElection | None = None,
) -> Service:
    """Build every part of the service from ``options``; raises the first unusable part's error.

    ``backends`` default to files (``FileBackends``); a live cluster's are connected
    first, and the caller keeps closing them if this raises. ``lock`` is the data
    directory's lock when the caller took it already (else it is taken here); from
    here on the service owns it: released if this raises, else by ``Service.close``.
    ``election`` (several replicas): only the leader samples, and this replica hears the
    others' writes to the store.
    """
    options.check()
    if options.tls is not None:
        check_tls_files(options.tls)
    if backends is None:
        backends = FileBackends(options, clock=clock)
    config = backends.config
    follower = _log_level_follower(options)
    if follower is not None:
        config.add_listener(follower)
    if options.log_level is None:
        set_level(config.current().log_level)
    data_dir = DataDir(options.data_dir)
    data_dir.create()
    # Before anything in the directory is opened: one service per data directory.
    lock = lock or DataDirLock.acquire(data_dir.root, clock=clock)
    database_url = options.database_url or data_dir.database_url
    database_lock: DatabaseFileLock | None = None
    try:
        # One service per SQLite file too, whichever data directory names it.
        database_lock = _lock_sqlite_database(database_url, clock)
        tls = served_tls_files(
            options.tls,
            https_enable=config.current().https_enable,
            files=data_dir.tls_files,
            secret_pems=backends.tls,
            clock=clock,
        )
        if tls is not None and tls != options.tls:
            check_tls_files(tls)
        database = open_service_store(
            data_dir.root,
            database_url=database_url,
            start_over=options.start_over,
            clock=clock,
        )
    except BaseException:
        if database_lock is not None:
            database_lock.release()
        lock.release()
        raise
    version = version_info_from(os.environ if environ is None else environ)
    try:
        if election is not None:
            database.notify_other_replicas()
        tokens = backends.open_api_tokens(data_dir)
        signing_key = backends.signing_key_store(data_dir).load_or_create()
        authenticator = backends.authenticator(tokens)
        upload_tokens = backends.open_upload_tokens(data_dir)
        upload_authenticator = UploadTokenAuthenticator(
            upload_tokens, api_tokens=tokens, limiter=FailedAttemptLimiter(), clock=clock
        )
        sampler = Sampler(
            cluster.source,
            database,
            settings=lambda: config.current().metering,
            chargeback=lambda: config.current().chargeback_enabled,
            clock=clock,
            interval=options.sample_interval,
            kept_misses=UnrecordedMisses(data_dir.root / UNRECORDED_MISSES_FILE),
            may_store=election.elector.leading if election is not None else None,
        )
        sender = Sender(
            database,
            cluster_id=cluster.cluster_id,
            signing_key=signing_key,
            target=target_reader(
                config=config.current,
                reporter_url=options.reporter_url,
                credentials=backends.reporter_credentials(),
                cluster=ClusterIdentity(
                    cluster_id=cluster.cluster_id,
                    cluster_name=cluster.cluster_name,
                    service_version=version.version,
                ),
            ),
            clock=clock,
            may_push=election.elector.leading if election is not None else None,
            # The first push waits for this run's first sample: it then carries today's usage.
            sampled_this_run=lambda: sampler.status().last_sample_at is not None,
        )
        publisher = (
            LeaderViewPublisher(
                database,
                cluster_id=cluster.cluster_id,
                identity=election.elector.identity,
                sampler=sampler.status,
                sender=sender.status,
                clock=clock,
            )
            if election is not None
            else None
        )
        leader_view = (
            reader_for(database, cluster_id=cluster.cluster_id) if election is not None else None
        )
    except BaseException:
        database.dispose()
        if database_lock is not None:
            database_lock.release()
        lock.release()
        raise
    state = AppState(
        database=database,
        cluster_id=cluster.cluster_id,
        cluster_name=cluster.cluster_name,
        sampler_status=_sampler_status(sampler, database, cluster.cluster_id, election),
        source_state=_state_reader(cluster.source),
        authenticator=authenticator,
        licensing=config.current,
        health_warnings=_warnings_reader(
            config, https_at_start=config.current().https_enable, backends=backends
        ),
        signing_key=signing_key,
        clock=clock,
        version=version,
        retention_sample_days=DEFAULT_SAMPLE_DAYS,
        retention_peak_days=DEFAULT_PEAK_DAYS,
        extra_collectors=backends.collectors(),
        entitlements=backends.entitlements.current,
        entitlements_problem=backends.entitlements.problem,
        leader_status=election.elector.status if election is not None else None,
        upload_authenticator=upload_authenticator,
        sender_status=sender.status,
        leader_view=leader_view,
    )
    return Service(
        options=options,
        data_dir=data_dir,
        database=database,
        tokens=tokens,
        upload_tokens=upload_tokens,
        config=config,
        signing_key=signing_key,
        cluster=cluster,
        sampler=sampler,
        state=state,
        clock=clock,
        backends=backends,
        lock=lock,
        database_lock=database_lock,
        tls=tls,
        election=election,
        sender=sender,
        leader_view=publisher,
    )


def _lock_sqlite_database(url: str, clock: Clock) -> DatabaseFileLock | None:
    """Lock a SQLite database's file for this service; ``None`` for PostgreSQL (replicas
    share it and elect a leader) and for a directory that does not exist (the store's
    open then says so)."""
    database_file = sqlite_file_of(url)
    if database_file is None or not database_file.absolute().parent.is_dir():
        return None
    return DatabaseFileLock.acquire(database_file, clock=clock)


def _sampler_status(
    sampler: Sampler,
    database: Database,
    cluster_id: ClusterId,
    election: ReplicaElection | None,
) -> Callable[[], SamplerStatus]:
    """The sampler's own status; with replicas, the leader's samples when another leads."""
    if election is None:
        return sampler.status
    stored = StoredSampleView(database, cluster_id=cluster_id)
    stored.refresh()
    return replica_sampler_status(sampler.status, leading=election.elector.leading, stored=stored)


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
    config: LicensingConfigSource, *, https_at_start: bool, backends: Backends
) -> Callable[[], list[str]]:
    def https_note() -> list[str]:
        # TLS is set up at start only (SPEC 6): say so while the configuration differs.
        now = config.current().https_enable
        if now == https_at_start:
            return []
        shown = "true" if now else "false"
        return [f"spec.httpsEnable changed to {shown} while running: it applies at the next start"]

    return lambda: [*config.warnings(), *backends.warnings(), *https_note()]
