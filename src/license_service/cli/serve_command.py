"""``license-service serve``: the service itself: sampler, API (8080) and metrics (8081).

Flags other tools rely on: ``--host``, ``--port``, ``--metrics-port``, ``--data-dir``,
``--database-url``, ``--config``, ``--token-file``, ``--token-grace-period``,
``--sample-interval``, ``--tls-cert``/``--tls-key``, ``--cluster-dump``,
``--cluster-id``, ``--cluster-name``, ``--log-level``, ``--kubeconfig``,
``--context``, ``--namespace``, ``--start-over``. Several dumps are given by repeating the flag
(``--cluster-dump pods.json --cluster-dump nodes.json``).

Which cluster, decided once, here; the first rule that applies:

1. ``--cluster-dump FILE``: measure dump files (no live-cluster flag may be given);
2. ``--kubeconfig FILE`` or ``--context NAME``: that kubeconfig (with ``--context``
   alone, the files below), through the Kubernetes API;
3. in a pod (``KUBERNETES_SERVICE_HOST`` set): the pod's service account;
4. outside a pod: the files of ``$KUBECONFIG``, else ``~/.kube/config``, as kubectl
   finds them; when there is none, the command refuses to start and says what to give.

Live, the configuration is the ``IBMLicensing`` resource, the API token and the
signing key live in Secrets of the service's namespace (``--namespace``; see
``runtime.kubernetes_start``); the first log line names the API server and the
context. The service is assembled with the backends the choice gives.

The command prints where it listens and where the API token is kept, never the
token itself; logs go to standard error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from license_service import __version__
from license_service.cli import options as flags
from license_service.cli.options import (
    HostOption,
    LogLevelOption,
    MetricsPortOption,
    PortOption,
    SampleIntervalOption,
    StartOverOption,
)
from license_service.errors import ConfigurationError
from license_service.runtime.options import (
    DEFAULT_DATA_DIR,
    DEFAULT_HOST,
    DEFAULT_METRICS_PORT,
    DEFAULT_PORT,
    DEFAULT_STARTUP_TIMEOUT,
    MAX_STARTUP_SECONDS,
    KubernetesOptions,
    ServeOptions,
    replica_identity,
)
from license_service.tokens.followed import MAX_GRACE_PERIOD

if TYPE_CHECKING:
    from license_service.runtime.backends import Backends
    from license_service.runtime.leader_start import ReplicaElection
    from license_service.runtime.listeners import Listeners
    from license_service.runtime.wiring import ClusterChoice, Service

# The service's modules (uvicorn, starlette, SQLAlchemy, the Kubernetes client...) are
# imported by the commands that run it, so `license-service --help` and the light
# commands start in a fraction of a second.

ENVIRONMENT_IN_A_POD = "KUBERNETES_SERVICE_HOST"


def serve_command(
    *,
    host: HostOption = DEFAULT_HOST,
    port: PortOption = DEFAULT_PORT,
    metrics_port: MetricsPortOption = DEFAULT_METRICS_PORT,
    data_dir: Annotated[
        Path,
        flags.data_dir(
            "Directory of the database, API token and signing key; created with mode 0700.",
            show_default=True,
        ),
    ] = DEFAULT_DATA_DIR,
    database_url: Annotated[
        str | None,
        flags.database_url(
            "postgresql://user@host:5432/db or sqlite:///file (default: SQLite in --data-dir)."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        flags.optional(
            "--config",
            metavar="FILE",
            help_text="IBMLicensing YAML document; re-read when it changes.",
        ),
    ] = None,
    entitlements: Annotated[
        Path | None,
        flags.optional(
            "--entitlements",
            metavar="FILE",
            help_text="YAML list of the licenses bought (instead of the ConfigMap "
            "license-service-entitlements); re-read when it changes.",
        ),
    ] = None,
    token_file: Annotated[
        Path | None,
        flags.token_file(
            "Read the API token from FILE (e.g. a mounted Secret) instead of --data-dir; "
            "re-read when it changes."
        ),
    ] = None,
    token_grace_period: Annotated[
        int,
        typer.Option(
            "--token-grace-period",
            metavar="SECONDS",
            help="After a token change, keep accepting the previous token this long.",
            max=int(MAX_GRACE_PERIOD.total_seconds()),
        ),
    ] = 0,
    sample_interval: SampleIntervalOption = 300,
    tls_cert: Annotated[
        Path | None,
        typer.Option(
            "--tls-cert", metavar="PEM", help="Serve HTTPS with this certificate (with --tls-key)."
        ),
    ] = None,
    tls_key: Annotated[
        Path | None,
        typer.Option("--tls-key", metavar="PEM", help="Private key of --tls-cert."),
    ] = None,
    cluster_dump: Annotated[
        list[Path] | None,
        flags.optional(
            "--cluster-dump",
            metavar="FILE",
            help_text="Measure from `kubectl get pods,nodes,namespaces -A -o json` saved in "
            "FILE; repeat the flag for several files; re-read when a file changes.",
        ),
    ] = None,
    cluster_id: Annotated[
        str | None,
        flags.cluster_id("Id of the measured cluster (default: uid of the kube-system namespace)."),
    ] = None,
    cluster_name: Annotated[
        str | None,
        flags.cluster_name(
            "Name shown on the status page and in snapshots (default: the cluster id)."
        ),
    ] = None,
    log_level: LogLevelOption = None,
    kubeconfig: Annotated[
        Path | None,
        flags.kubeconfig(
            "Reach the cluster with this kubeconfig (default in a pod: its service account)."
        ),
    ] = None,
    context: Annotated[
        str | None,
        flags.context("Context of the kubeconfig to use (default: its current context)."),
    ] = None,
    namespace: Annotated[
        str | None,
        flags.namespace(
            "The service's namespace, where its Secrets live (default: the pod's, else "
            "spec.instanceNamespace, else ibm-common-services)."
        ),
    ] = None,
    startup_timeout: Annotated[
        int,
        typer.Option(
            "--startup-timeout",
            metavar="SECONDS",
            help="How long to wait at start for the Kubernetes API to answer.",
            max=MAX_STARTUP_SECONDS,
        ),
    ] = int(DEFAULT_STARTUP_TIMEOUT.total_seconds()),
    start_over: StartOverOption = False,
    leader_election: Annotated[
        bool,
        typer.Option(
            "--leader-election",
            help="Run as one of several replicas on one PostgreSQL: elect a leader with the "
            "Lease license-service-leader; only the leader samples (identity: $POD_NAME, "
            "else $HOSTNAME).",
        ),
    ] = False,
    reporter_url: Annotated[
        str | None,
        flags.optional(
            "--reporter-url",
            metavar="URL",
            help_text="Push the daily peaks to the License Service Reporter at URL, hourly "
            "(in place of spec.sender.reporterURL).",
        ),
    ] = None,
    reporter_token_file: Annotated[
        Path | None,
        flags.optional(
            "--reporter-token-file",
            metavar="FILE",
            help_text="The Reporter's token (in place of the Secret "
            "ibm-license-service-reporter-token); read before every push.",
        ),
    ] = None,
    reporter_ca_file: Annotated[
        Path | None,
        flags.optional(
            "--reporter-ca-file",
            metavar="FILE",
            help_text="Verify the Reporter's HTTPS certificate with this CA (PEM).",
        ),
    ] = None,
) -> None:
    """Run the service: sample the cluster and serve the API and the metrics."""
    from license_service.cluster.dump_source import DumpFileSource
    from license_service.metering.cluster_view import ClusterId
    from license_service.runtime.log_configuration import configure_logging
    from license_service.runtime.service import run
    from license_service.runtime.wiring import ClusterChoice, utc_now
    from license_service.sampling.freshness import MAX_VIEW_AGE

    live = not cluster_dump
    # Outside a pod, without --kubeconfig/--context, a kubeconfig is found as kubectl does.
    default_kubeconfig = (
        live and kubeconfig is None and context is None and ENVIRONMENT_IN_A_POD not in os.environ
    )
    options = ServeOptions(
        host=host,
        port=port,
        metrics_port=metrics_port,
        data_dir=data_dir,
        database_url=database_url,
        config_file=config,
        entitlements_file=entitlements,
        token_file=token_file,
        token_grace_period=timedelta(seconds=token_grace_period),
        sample_interval=timedelta(seconds=sample_interval),
        tls_cert=tls_cert,
        tls_key=tls_key,
        log_level=log_level,
        kubernetes=KubernetesOptions(
            kubeconfig=kubeconfig,
            context=context,
            default_kubeconfig=default_kubeconfig,
            namespace=namespace,
            cluster_id=cluster_id,
            startup_timeout=timedelta(seconds=startup_timeout),
        )
        if live
        else None,
        start_over=start_over,
        leader_election=leader_election,
        replica_id=replica_identity(os.environ) if leader_election else None,
        reporter_url=reporter_url,
        reporter_token_file=reporter_token_file,
        reporter_ca_file=reporter_ca_file,
    )
    options.check()
    live_flags = [
        flag
        for flag, value in (
            ("--kubeconfig", kubeconfig),
            ("--context", context),
            ("--namespace", namespace),
        )
        if value is not None
    ]
    _check_cluster_choice(
        options, dumps=cluster_dump or [], live_flags=live_flags, environ=os.environ
    )
    configure_logging(options.log_level or "INFO")
    backends: Backends | None = None  # files, unless a live cluster is measured
    elector: ReplicaElection | None = None  # with --leader-election
    if cluster_dump:
        source = DumpFileSource.load(
            cluster_dump,
            clock=utc_now,
            cluster_id=ClusterId(cluster_id) if cluster_id else None,
            stale_after=MAX_VIEW_AGE,
        )
        cluster = ClusterChoice(
            source=source,
            cluster_id=source.cluster_id,
            cluster_name=cluster_name or source.cluster_id,
            check=source.check,
        )
        files = "file" if len(cluster_dump) == 1 else "files"
        measured = f"from {len(cluster_dump)} dump {files}"
    else:
        # Only a live cluster loads the Kubernetes client (about a second).
        from license_service.runtime.kubernetes_start import connect_kubernetes

        kubernetes = connect_kubernetes(options, clock=utc_now)
        backends = kubernetes
        if options.leader_election:
            from license_service.runtime.leader_start import elector_for

            try:
                elector = elector_for(kubernetes, options, clock=utc_now)
            except BaseException:
                kubernetes.close()
                raise
        cluster = ClusterChoice(
            source=kubernetes.source,
            cluster_id=kubernetes.cluster_id,
            cluster_name=cluster_name or kubernetes.cluster_id,
        )
        measured = (
            f"through the Kubernetes API ({kubernetes.credentials}), namespace "
            f"{kubernetes.namespace}"
        )
    started = start(options, cluster, backends=backends, elector=elector)
    typer.echo(
        f"License Service {__version__}: cluster {cluster.cluster_id} {measured}, "
        f"a sample every {sample_interval} s"
    )
    for line in service_lines(started.service, started.listeners):
        typer.echo(line)
    typer.echo("Stop with Ctrl+C (or SIGTERM).")
    run(started.service, started.listeners)


@dataclass(frozen=True, slots=True)
class Started:
    """A service built and its ports bound, ready to ``run``."""

    service: Service
    listeners: Listeners


def start(
    options: ServeOptions,
    cluster: ClusterChoice,
    *,
    backends: Backends | None = None,
    elector: ReplicaElection | None = None,
) -> Started:
    """Lock the data directory, bind the ports, then build the service; nothing is left
    open (or running) on failure.

    The lock comes first: a second server on a data directory in use is told so, not
    that its port is taken. ``backends`` are those of a live cluster, already
    connected; ``None`` means files.
    """
    from license_service.runtime.data_dir_lock import DataDirLock
    from license_service.runtime.listeners import bind_listeners
    from license_service.runtime.paths import DataDir
    from license_service.runtime.wiring import assemble

    try:
        data_dir = DataDir(options.data_dir)
        data_dir.create()
        lock = DataDirLock.acquire(data_dir.root)
        try:
            listeners = bind_listeners(
                options.host, port=options.port, metrics_port=options.metrics_port
            )
            try:
                service = assemble(
                    options, cluster=cluster, backends=backends, lock=lock, election=elector
                )
            except BaseException:
                listeners.close()
                raise
        except BaseException:
            lock.release()
            raise
    except BaseException:
        if elector is not None:
            elector.close()
        if backends is not None:
            backends.close()
        raise
    return Started(service=service, listeners=listeners)


def _check_cluster_choice(
    options: ServeOptions,
    *,
    dumps: list[Path],
    live_flags: list[str],
    environ: Mapping[str, str],
) -> None:
    """Refuse a mix of dump and live-cluster flags, and a live cluster with no way to reach it
    (no kubeconfig where one is looked for)."""
    kubernetes = options.kubernetes
    if dumps:
        if live_flags:
            raise ConfigurationError(
                f"--cluster-dump measures dump files, {' and '.join(live_flags)} a live "
                "cluster; give one or the other"
            )
        return
    if kubernetes is None or kubernetes.in_cluster:
        return
    # Only a live cluster reached by a kubeconfig loads this (it reads files, no client).
    from license_service.cluster.kubernetes.kubeconfig_files import kubeconfig_files

    problem = kubeconfig_files(kubernetes.kubeconfig, environ=environ).problem()
    if problem is None:
        return
    if not kubernetes.default_kubeconfig:
        raise ConfigurationError(problem)  # --context NAME, and no kubeconfig to find it in
    raise ConfigurationError(
        "no cluster to measure: give --cluster-dump FILE (the output of `kubectl get "
        "pods,nodes,namespaces -A -o json`), or --kubeconfig FILE to measure a live "
        f"cluster through its API from outside it (no kubeconfig found: {problem}; in a "
        f"pod, {ENVIRONMENT_IN_A_POD} is set and the pod's service account is used). To "
        "try the service without a cluster, run `license-service demo`"
    )


def service_lines(service: Service, listeners: Listeners) -> list[str]:
    """Where the service listens and keeps its token, for the start banner (no secret)."""
    from license_service.runtime.addresses import base_url

    api = base_url(listeners.api, scheme=service.scheme)
    lines = [f"  API:      {api}/  (try {api}/products?token=<API token>)"]
    if listeners.metrics is not None:
        lines.append(f"  Metrics:  {base_url(listeners.metrics, scheme='http')}/metrics")
    else:
        lines.append("  Metrics:  off (--metrics-port 0)")
    lines.append(f"  Token:    {service.backends.describe_token()}")
    lines.append(f"  Data:     {service.data_dir.root.resolve()} (database {service.database.url})")
    if (config := service.backends.describe_config()) is not None:
        lines.append(f"  Config:   {config}")
    return lines
