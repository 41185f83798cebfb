"""``license-service reporter``: the Reporter of many clusters (SPEC 11), and its admin commands.

``license-service reporter --database-url URL`` serves the Reporter's API (pushes in,
the fleet's numbers out); ``license-service reporter trust CLUSTER_ID`` accepts the key
a cluster's pushes were refused for. The service's modules are imported by the
command that runs them, so ``--help`` stays quick.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer

from license_service.cli import options as flags
from license_service.cli.exit_codes import reporting_errors
from license_service.cli.help_pages import HelpCommand, HelpGroup
from license_service.cli.options import LOG_LEVELS, HostOption
from license_service.errors import ConfigurationError, InputError
from license_service.runtime.options import DEFAULT_STARTUP_TIMEOUT, MAX_STARTUP_SECONDS

if TYPE_CHECKING:
    from license_service.runtime.reporter_runtime import ReporterOptions

DEFAULT_REPORTER_DATA_DIR: Final = Path("license-service-reporter-data")
DEFAULT_REPORTER_PORT: Final = 8080
DEFAULT_HOST: Final = "127.0.0.1"

DatabaseUrlOption = Annotated[
    str | None,
    flags.database_url(
        "postgresql://user@host:5432/db (the Reporter's database), or sqlite:///file for a "
        "trial; also LICENSE_SERVICE_REPORTER_DATABASE_URL."
    ),
]
_DATABASE_VARIABLE: Final = "LICENSE_SERVICE_REPORTER_DATABASE_URL"


def build_reporter_app() -> typer.Typer:
    """The ``reporter`` command: serve, or one of its admin subcommands."""
    group = typer.Typer(
        name="reporter",
        help="Run the License Service Reporter: one view of many clusters.",
        invoke_without_command=True,
        cls=HelpGroup,
    )
    group.callback()(reporting_errors(reporter_command))
    group.command("trust", cls=HelpCommand)(reporting_errors(trust_command))
    group.command("import", cls=HelpCommand)(reporting_errors(import_command))
    return group


def reporter_command(
    ctx: typer.Context,
    *,
    database_url: DatabaseUrlOption = None,
    host: HostOption = DEFAULT_HOST,
    port: Annotated[
        int, typer.Option("--port", metavar="PORT", help="Port of the Reporter's API.")
    ] = DEFAULT_REPORTER_PORT,
    data_dir: Annotated[
        Path,
        flags.data_dir(
            "Directory of the Reporter token (DIR/token) and signing key, outside Kubernetes; "
            "mode 0700.",
            show_default=True,
        ),
    ] = DEFAULT_REPORTER_DATA_DIR,
    token_file: Annotated[
        Path | None,
        flags.token_file(
            "Read the Reporter token from FILE (e.g. a mounted Secret); takes precedence over "
            "the Secret and DIR/token."
        ),
    ] = None,
    tls_cert: Annotated[
        Path | None,
        typer.Option("--tls-cert", metavar="PEM", help="Serve HTTPS with this certificate."),
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option("--tls-key", metavar="PEM", help="Private key of --tls-cert.")
    ] = None,
    kubeconfig: Annotated[
        Path | None,
        flags.kubeconfig(
            "Keep the Reporter token in Secret ibm-license-service-reporter-token of this "
            "cluster and accept service-account tokens reviewed by its API (in a pod: its "
            "own cluster, without this flag)."
        ),
    ] = None,
    namespace: Annotated[
        str | None,
        flags.namespace(
            "Namespace of the Reporter's token Secret (default: the pod's, else "
            "ibm-common-services)."
        ),
    ] = None,
    startup_timeout: Annotated[
        int,
        typer.Option(
            "--startup-timeout",
            metavar="SECONDS",
            help="How long to wait at start for the token Secret to be read.",
            min=1,
            max=MAX_STARTUP_SECONDS,
        ),
    ] = int(DEFAULT_STARTUP_TIMEOUT.total_seconds()),
    entitlements: Annotated[
        Path | None,
        flags.optional(
            "--entitlements",
            metavar="FILE",
            help_text="YAML list of the licenses bought, for the fleet's /compliance; "
            "re-read when it changes.",
        ),
    ] = None,
    log_level: Annotated[str | None, flags.log_level(f"{LOG_LEVELS} (default: INFO).")] = None,
) -> None:
    """Serve the Reporter: POST /v1/push from clusters; /products, /clusters... for people."""
    if ctx.invoked_subcommand is not None:
        return
    from license_service.runtime.log_configuration import configure_logging
    from license_service.runtime.options import KubernetesOptions
    from license_service.runtime.reporter_runtime import ReporterOptions, run_reporter
    from license_service.tls.file_store import TlsFiles

    if (tls_cert is None) != (tls_key is None):
        raise ConfigurationError("give --tls-cert and --tls-key together, or neither")
    problems = KubernetesOptions(kubeconfig=kubeconfig, namespace=namespace).problems()
    if problems:
        raise ConfigurationError("; ".join(problems))
    configure_logging(log_level or "INFO")
    options = ReporterOptions(
        database_url=_database_url(database_url),
        data_dir=data_dir,
        host=host,
        port=port,
        token_file=token_file,
        tls=TlsFiles(tls_cert, tls_key) if tls_cert and tls_key else None,
        kubeconfig=kubeconfig,
        namespace=namespace,
        startup_timeout=timedelta(seconds=startup_timeout),
        entitlements_file=entitlements,
    )
    typer.echo(f"License Service Reporter on port {port}; token in {_token_place(options)}")
    run_reporter(options, environ=dict(os.environ))


def trust_command(
    cluster_id: Annotated[
        str, typer.Argument(metavar="CLUSTER_ID", help="The cluster whose refused key to accept.")
    ],
    *,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Accept the signing key a cluster's pushes were refused for (409) as its key from now on."""
    from license_service.fleet.fleet_schema import open_fleet_database
    from license_service.fleet.fleet_store import trust_pending_key

    database = open_fleet_database(_database_url(database_url))
    try:
        with database.begin() as connection:
            fingerprint = trust_pending_key(connection, cluster_id)
    finally:
        database.dispose()
    typer.echo(f"Cluster {cluster_id} now trusted with key {fingerprint}")


def import_command(
    snapshot: Annotated[
        Path,
        typer.Argument(metavar="FILE.zip", help="A License Service audit snapshot (the zip)."),
    ],
    *,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Verify an offline cluster's audit snapshot and store its days as that cluster's."""
    from datetime import UTC, datetime

    from license_service.fleet.fleet_schema import open_fleet_database
    from license_service.fleet.fleet_store import KeyRefusal
    from license_service.fleet.snapshot_import import import_snapshot

    database = open_fleet_database(_database_url(database_url))
    try:
        outcome = import_snapshot(database, snapshot, now=datetime.now(UTC))
    finally:
        database.dispose()
    if isinstance(outcome, KeyRefusal):
        raise InputError(outcome.message)
    through = outcome.acknowledged_through
    typer.echo(
        f"Imported {outcome.accepted} days of cluster {outcome.cluster_id} (complete through "
        f"{through.isoformat() if through else 'no complete day'})"
    )


def _token_place(options: ReporterOptions) -> str:
    """Where the token will be read, as the runtime decides it (for the first line)."""
    if options.token_file is not None:
        return str(options.token_file)
    if options.kubeconfig is not None or os.environ.get("KUBERNETES_SERVICE_HOST"):
        where = f" (namespace {options.namespace})" if options.namespace else ""
        return f"Secret ibm-license-service-reporter-token{where}"
    return str(options.data_dir / "token")


def _database_url(given: str | None) -> str:
    url = given or os.environ.get(_DATABASE_VARIABLE)
    if not url:
        raise ConfigurationError(
            f"give the Reporter's database: --database-url postgresql://user@host:5432/db "
            f"(or {_DATABASE_VARIABLE}); sqlite:///reporter.db for a trial"
        )
    return url
