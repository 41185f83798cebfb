"""What ``serve`` and ``demo`` were asked to do, checked before anything is built.

``ServeOptions`` holds the flags shared by both commands (the cluster source is
chosen by each command); ``KubernetesOptions`` those of a live cluster (``serve``
without ``--cluster-dump``). ``check`` lists every problem at once in one
``ConfigurationError`` (exit code 2), each naming the flag, the value and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Final

from license_service.cluster.kubernetes.watch_options import WatchOptions
from license_service.configuration.sender_settings import reporter_url_problem
from license_service.errors import ConfigurationError
from license_service.runtime.log_configuration import LEVELS
from license_service.sampling.schedule import DEFAULT_INTERVAL, interval_seconds
from license_service.tls.file_store import TlsFiles
from license_service.tokens.followed import grace_period_problem

DEFAULT_HOST: Final = "0.0.0.0"  # noqa: S104  (a service in a pod listens on every interface)
DEFAULT_PORT: Final = 8080
DEFAULT_METRICS_PORT: Final = 8081
_MAX_PORT: Final = 65_535
DEFAULT_STARTUP_TIMEOUT: Final = timedelta(seconds=60)
MAX_STARTUP_SECONDS: Final = 86_400
"""The longest ``--startup-timeout`` (a day); a huge number of seconds overflowed."""
DEFAULT_DATA_DIR: Final = Path("license-service-data")
"""The data directory of ``serve`` and ``license-service token``/``snapshot`` unless
``--data-dir`` is given (relative to the working directory)."""
DEMO_DATA_DIR: Final = Path("license-service-demo-data")
DATABASE_FILE: Final = "license-service.db"
"""The SQLite file of a data directory (the store unless ``--database-url``)."""
DEFAULT_HISTORY_DAYS: Final = 90
"""Days of simulated history the demo backfills."""
MAX_HISTORY_DAYS: Final = 731
"""The most the demo backfills: daily peaks are kept 731 days, older ones would be pruned."""
_MAX_REPLICA_ID: Final = 253
_DNS_LABEL: Final = re.compile(r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?")


def replica_identity(environ: Mapping[str, str]) -> str | None:
    """This replica's name in the leader election: ``$POD_NAME``, else ``$HOSTNAME`` (a pod's
    hostname is its name), else ``None``."""
    for variable in ("POD_NAME", "HOSTNAME"):
        value = environ.get(variable, "").strip()
        if value:
            return value
    return None


@dataclass(frozen=True, slots=True)
class KubernetesOptions:
    """How to reach the cluster, and where the service's Secrets live.

    Without ``kubeconfig``, ``context`` and ``default_kubeconfig`` the pod's service
    account is used. ``default_kubeconfig`` (``serve`` outside a pod, without
    ``--kubeconfig``) reads the files of ``$KUBECONFIG``, else ``~/.kube/config``.
    """

    kubeconfig: Path | None = None
    context: str | None = None
    default_kubeconfig: bool = False
    namespace: str | None = None
    cluster_id: str | None = None
    startup_timeout: timedelta = DEFAULT_STARTUP_TIMEOUT
    watch: WatchOptions = field(default_factory=WatchOptions)

    @property
    def in_cluster(self) -> bool:
        """Whether the pod's service account is used (no kubeconfig asked for)."""
        return self.kubeconfig is None and self.context is None and not self.default_kubeconfig

    def problems(self) -> list[str]:
        """What is wrong with these options, each naming the flag, the value and the fix."""
        problems = []
        if self.kubeconfig is not None and not self.kubeconfig.is_file():
            problems.append(
                f"--kubeconfig {self.kubeconfig}: no such file; give the path of a kubeconfig"
            )
        if self.namespace is not None and not _DNS_LABEL.fullmatch(self.namespace):
            problems.append(
                f"--namespace {self.namespace!r} is not a namespace name; use lowercase "
                "letters, digits and '-', at most 63 characters"
            )
        if self.cluster_id is not None and not self.cluster_id.strip():
            problems.append("--cluster-id is empty; give an id, or leave it out")
        if self.startup_timeout <= timedelta(0):
            problems.append(
                f"--startup-timeout {self.startup_timeout.total_seconds():g} is not positive; "
                "give the seconds to wait for the Kubernetes API at start"
            )
        return problems


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """The flags of the running service; ``metrics_port`` 0 turns the metrics server off.

    ``log_level`` ``None`` means: follow ``spec.logLevel`` of the configuration.
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    metrics_port: int = DEFAULT_METRICS_PORT
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = None
    config_file: Path | None = None
    entitlements_file: Path | None = None
    token_file: Path | None = None
    token_grace_period: timedelta = timedelta(0)
    sample_interval: timedelta = DEFAULT_INTERVAL
    tls_cert: Path | None = None
    tls_key: Path | None = None
    log_level: str | None = None
    kubernetes: KubernetesOptions | None = None
    start_over: bool = False
    """Accept an empty database where one held data, and set a damaged SQLite file aside."""
    leader_election: bool = False
    """Several replicas (SPEC 12): elect a leader by Lease; only it samples and prunes."""
    replica_id: str | None = None
    """This replica's identity in the election (its pod name)."""
    reporter_url: str | None = None
    """``--reporter-url``: push to this Reporter (SPEC 11), in place of spec.sender.reporterURL."""
    reporter_token_file: Path | None = None
    """``--reporter-token-file``: the Reporter's token (in place of its Secret)."""
    reporter_ca_file: Path | None = None
    """``--reporter-ca-file``: verify the Reporter's certificate with this CA."""

    @property
    def tls(self) -> TlsFiles | None:
        """The TLS files when both are given (``check`` refuses one alone)."""
        if self.tls_cert is None or self.tls_key is None:
            return None
        return TlsFiles(self.tls_cert, self.tls_key)

    @property
    def scheme(self) -> str:
        """``https`` when TLS files are given, else ``http``."""
        return "https" if self.tls is not None else "http"

    def check(self) -> None:
        """Raise ``ConfigurationError`` listing every problem of these options."""
        problems = [*self._port_problems(), *self._file_problems()]
        grace_problem = grace_period_problem(self.token_grace_period)
        if grace_problem is not None:
            problems.append(f"--token-grace-period {grace_problem}")
        try:
            interval_seconds(self.sample_interval)
        except ConfigurationError as exc:
            problems.append(f"--sample-interval: {exc}")
        if self.log_level is not None and self.log_level.strip().upper() not in LEVELS:
            problems.append(
                f"--log-level {self.log_level!r} is not known; use one of {', '.join(LEVELS)}"
            )
        if not self.host.strip():
            problems.append("--host is empty; give an address such as 0.0.0.0 or 127.0.0.1")
        if self.kubernetes is not None:
            problems.extend(self.kubernetes.problems())
        problems.extend(self._replica_problems())
        problems.extend(self._reporter_problems())
        if problems:
            raise ConfigurationError("; ".join(problems))

    def _replica_problems(self) -> list[str]:
        if not self.leader_election:
            return []
        problems = []
        if self.kubernetes is None:
            problems.append(
                "--leader-election needs a live cluster (the replicas elect their leader with a "
                "Lease in Kubernetes); leave out --cluster-dump, or --leader-election"
            )
        url = (self.database_url or "").strip().lower()
        if not url.startswith("postgresql"):
            shown = "SQLite in --data-dir" if not url else "a SQLite database"
            problems.append(
                f"--leader-election (several replicas) on {shown} is refused: replicas cannot "
                "share a SQLite file, each would keep its own records; give every replica the "
                "same --database-url postgresql://<user>@<host>:<port>/<database>, or run one "
                "replica without --leader-election"
            )
        if not self.replica_id or len(self.replica_id) > _MAX_REPLICA_ID:
            problems.append(
                f"the replica's identity {self.replica_id!r} cannot be used in the election: set "
                f"POD_NAME (or HOSTNAME) to the pod's name, at most {_MAX_REPLICA_ID} characters"
            )
        return problems

    def _reporter_problems(self) -> list[str]:
        problems = []
        if self.reporter_url is not None:
            problem = reporter_url_problem(self.reporter_url.strip())
            if problem is not None:
                problems.append(f"--reporter-url {problem}")
            if self.kubernetes is None and self.reporter_token_file is None:
                problems.append(
                    "--reporter-url needs --reporter-token-file FILE outside Kubernetes: the "
                    "file holding the Reporter's token"
                )
        for flag, path in (
            ("--reporter-token-file", self.reporter_token_file),
            ("--reporter-ca-file", self.reporter_ca_file),
        ):
            if path is not None and not path.is_file():
                problems.append(f"{flag} {path}: no such file; give the path of an existing file")
        return problems

    def _port_problems(self) -> list[str]:
        problems = []
        if not 1 <= self.port <= _MAX_PORT:
            problems.append(f"--port {self.port} is not a port; give a number from 1 to 65535")
        if not 0 <= self.metrics_port <= _MAX_PORT:
            problems.append(
                f"--metrics-port {self.metrics_port} is not a port; give a number from 1 to "
                "65535, or 0 to turn the metrics server off"
            )
        elif self.metrics_port == self.port:
            problems.append(
                f"--metrics-port {self.metrics_port} is the API's --port too; give another "
                "port (default 8081), or 0 to turn the metrics server off"
            )
        return problems

    def _file_problems(self) -> list[str]:
        problems = []
        if (self.tls_cert is None) != (self.tls_key is None):
            given, missing = (
                ("--tls-cert", "--tls-key")
                if self.tls_cert is not None
                else ("--tls-key", "--tls-cert")
            )
            problems.append(
                f"{given} was given without {missing}; HTTPS needs both the certificate and "
                "its private key (or neither, for plain HTTP)"
            )
        for flag, path in (
            ("--tls-cert", self.tls_cert),
            ("--tls-key", self.tls_key),
            ("--config", self.config_file),
            ("--entitlements", self.entitlements_file),
        ):
            if path is not None and not path.is_file():
                problems.append(f"{flag} {path}: no such file; give the path of an existing file")
        return problems
