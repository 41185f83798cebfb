"""Where the service keeps what lives outside its store: files, or the cluster; chosen once.

A service keeps four things besides its database: the ``IBMLicensing``
configuration, the API token, the audit signing key and the HTTPS certificate. Each
has a file backend and a Kubernetes backend; the first three behind one protocol each
(``LicensingConfigSource``, ``KeptToken``, ``SigningKeyStore``), the certificate as
the pair a Secret holds (``tls``), which the data directory's files then follow.
``Backends`` is the choice of all of them at once, made once by the command that starts
the service:

- ``FileBackends`` (dump files, the demo): ``--config`` or the defaults, the token
  file (the data directory's, or ``--token-file``), the data directory's signing
  key, a self-signed certificate made once; the API token alone authenticates;
- ``KubernetesBackends`` (``kubernetes_backends``, made by ``kubernetes_start``):
  the ``IBMLicensing`` resource, the token Secret, the signing key's Secret, the
  certificate's Secret, and service-account tokens besides the API token;
  ``--config`` and ``--token-file`` still replace the resource and the Secret (it
  keeps a ``FileBackends`` for them).

``assemble`` asks the backends for each part in turn and never asks which ones it has.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from prometheus_client.registry import Collector

from license_service.auth.authenticators import ApiTokenAuthenticator, Authenticator
from license_service.auth.failed_attempts import FailedAttemptLimiter
from license_service.config_sources.file_source import LicensingConfigWatcher
from license_service.config_sources.rules import url_tokens_required
from license_service.config_sources.source import LicensingConfigSource
from license_service.entitlement_sources.file_source import EntitlementsFile
from license_service.entitlement_sources.followed import FollowedEntitlements
from license_service.reporting.reporter_credentials import ReporterCredentials, ReporterFiles
from license_service.runtime.options import ServeOptions
from license_service.runtime.paths import DataDir
from license_service.runtime.periodic import WATCH_EVERY_SECONDS, Job, run_periodically
from license_service.signing.file_store import SigningKeyFile
from license_service.signing.keys import SigningKeyStore
from license_service.tls.certificates import TlsPems
from license_service.tokens.file_source import TokenFile
from license_service.tokens.followed import KeptToken, TokenSource
from license_service.tokens.kinds import UPLOAD_TOKEN

Clock = Callable[[], datetime]


class Backends(Protocol):
    """Where each concern is kept, and what following them adds to the running service."""

    @property
    def config(self) -> LicensingConfigSource:
        """The configuration in force, followed while the service runs."""
        ...

    @property
    def entitlements(self) -> FollowedEntitlements:
        """The entitlements in force (SPEC 13), followed while the service runs."""
        ...

    @property
    def tls(self) -> TlsPems | None:
        """The HTTPS pair kept in a Secret, to copy into the data directory; ``None``: none."""
        ...

    def open_api_tokens(self, data_dir: DataDir) -> KeptToken:
        """The API token in force, followed while the service runs."""
        ...

    def open_upload_tokens(self, data_dir: DataDir) -> KeptToken:
        """The upload token (SPEC 10), created when missing and followed while running."""
        ...

    def signing_key_store(self, data_dir: DataDir) -> SigningKeyStore:
        """Where the signing key is kept."""
        ...

    def authenticator(self, tokens: TokenSource) -> Authenticator:
        """Who may call the API: the API token ``tokens``, and what else these backends allow."""
        ...

    def reporter_credentials(self) -> ReporterCredentials:
        """Where the Reporter's token and CA are kept (SPEC 11)."""
        ...

    def describe_token(self) -> str:
        """Where the API token is kept and how to print it, for the start banner (no secret)."""
        ...

    def describe_config(self) -> str | None:
        """Where the configuration comes from, for the start banner; ``None``: the defaults."""
        ...

    def collectors(self) -> tuple[Collector, ...]:
        """Metrics of following the backends, for the metrics registry."""
        ...

    def warnings(self) -> list[str]:
        """Failures to follow the backends now, for ``/health``."""
        ...

    def jobs(self, stop: asyncio.Event) -> dict[str, Job]:
        """The background jobs that follow the backends until ``stop`` is set, by name."""
        ...

    def close(self) -> None:
        """Stop following the backends; may be called more than once."""
        ...


class FileBackends:
    """Every concern kept in files: ``--config``, the token file, the data directory."""

    tls: TlsPems | None = None

    def __init__(self, options: ServeOptions, *, clock: Clock, in_kubernetes: bool = False) -> None:
        """Read ``--config`` (or take the defaults); ``ConfigurationError`` when it is invalid.

        Outside Kubernetes the API token is the only way in, so a configuration turning
        URL tokens off is refused there (``url_tokens_required``); ``in_kubernetes``: the
        files serve a Kubernetes service, where service-account tokens work.
        """
        self._options = options
        self._clock = clock
        self.config = LicensingConfigWatcher.load(
            options.config_file, clock=clock, rule=None if in_kubernetes else url_tokens_required
        )
        self._token_file: TokenFile | None = None
        self._upload_token_file: TokenFile | None = None
        self.entitlements_file = (
            EntitlementsFile.load(options.entitlements_file, clock=clock)
            if options.entitlements_file is not None
            else None
        )
        self._no_entitlements = FollowedEntitlements(clock=clock)

    @property
    def entitlements(self) -> FollowedEntitlements:
        """``--entitlements FILE``, else none (they never change)."""
        return self.entitlements_file or self._no_entitlements

    def open_api_tokens(self, data_dir: DataDir) -> TokenFile:
        """``--token-file``, else the data directory's token file (generated when missing)."""
        options = self._options
        self._token_file = TokenFile(
            options.token_file or data_dir.token_file,
            generate_if_missing=options.token_file is None,
            grace_period=options.token_grace_period,
            clock=self._clock,
        )
        return self._token_file

    def open_upload_tokens(self, data_dir: DataDir) -> TokenFile:
        """The data directory's upload token file (SPEC 10), generated when missing."""
        self._upload_token_file = TokenFile(
            data_dir.upload_token_file,
            generate_if_missing=True,
            grace_period=self._options.token_grace_period,
            clock=self._clock,
            kind=UPLOAD_TOKEN,
        )
        return self._upload_token_file

    def signing_key_store(self, data_dir: DataDir) -> SigningKeyFile:
        """The data directory's signing key file."""
        return SigningKeyFile(data_dir.signing_key_file)

    def authenticator(self, tokens: TokenSource) -> Authenticator:
        """The API token alone: without a cluster there are no service accounts, and the
        token's refusals keep their own wording."""
        config = self.config
        return ApiTokenAuthenticator(
            tokens,
            url_based_enabled=lambda: config.current().url_based_enabled,
            limiter=FailedAttemptLimiter(),
            clock=self._clock,
        )

    def reporter_credentials(self) -> ReporterCredentials:
        """``--reporter-token-file`` and ``--reporter-ca-file``."""
        return ReporterFiles(self._options.reporter_token_file, self._options.reporter_ca_file)

    def describe_token(self) -> str:
        """The token file, and the ``token get`` command naming it as it was given."""
        options = self._options
        if options.token_file is not None:
            path, how = options.token_file, f"--token-file {options.token_file}"
        else:
            path, how = DataDir(options.data_dir).token_file, f"--data-dir {options.data_dir}"
        return f"in {path.resolve()}; print it with: license-service token get {how}"

    def describe_config(self) -> str | None:
        """The ``--config`` file, or ``None`` (the defaults)."""
        path = self._options.config_file
        return None if path is None else f"{path.resolve()} (followed while running)"

    def collectors(self) -> tuple[Collector, ...]:
        """None: files are followed by the jobs, whose failures are logged."""
        return ()

    def warnings(self) -> list[str]:
        """A refused entitlements file, beyond the configuration's own warnings."""
        return self.entitlements.warnings()

    def jobs(self, stop: asyncio.Event) -> dict[str, Job]:
        """Re-read the token file and the ``--config`` file every second."""
        jobs: dict[str, Job] = {}
        if self._token_file is not None:
            jobs["API token watcher"] = run_periodically(
                self._token_file.refresh,
                every=WATCH_EVERY_SECONDS,
                stop=stop,
                name=f"reading the API token file {self._token_file.path}",
            )
        if self._upload_token_file is not None:
            jobs["upload token watcher"] = run_periodically(
                self._upload_token_file.refresh,
                every=WATCH_EVERY_SECONDS,
                stop=stop,
                name=f"reading the upload token file {self._upload_token_file.path}",
            )
        if self.config.path is not None:
            jobs["configuration watcher"] = run_periodically(
                self.config.check,
                every=WATCH_EVERY_SECONDS,
                stop=stop,
                name=f"reading the configuration file {self.config.path}",
            )
        if self.entitlements_file is not None:
            jobs["entitlements watcher"] = run_periodically(
                self.entitlements_file.check,
                every=WATCH_EVERY_SECONDS,
                stop=stop,
                name=f"reading the entitlements file {self.entitlements_file.path}",
            )
        return jobs

    def close(self) -> None:
        """Nothing to stop: the jobs end with the service."""
