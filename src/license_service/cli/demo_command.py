"""``license-service demo``: the service on a simulated cluster, with 90 days of history.

The README's quick start (``make run``): no cluster needed. The demo fills the
store with the simulated cluster's history (hourly samples up to the last full
hour, then every sampling interval; about 20 s for 90 days on two cores, with a
progress bar), starts the server on localhost and keeps sampling live.

It prints the URLs a person can click WITH the API token: the demo is the one
place License Service prints a token (``serve`` only says where the token file
is). Its data directory (default ``./license-service-demo-data``) is its own; a
re-run backfills only the time since the last run. Delete the directory to start
over.

Chargeback groups are on (SPEC 8): the demo writes ``demo-ibmlicensing.yaml`` into its
data directory (once; an edited file is kept and followed live) with
``chargebackEnabled: true`` and the simulated sandbox namespace excluded.

``--clusters N`` (2 or more) runs a Reporter and N simulated clusters pushing into it
instead (``demo_fleet``); each cluster is this command with the hidden flags
``--seed``, ``--cluster-name``, ``--reporter-url`` and ``--reporter-token-file``, and its
``demo-ibmlicensing.yaml`` sets ``spec.sender.initialDays`` to cover its history.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from license_service.cli import options as flags
from license_service.cli.options import (
    HostOption,
    MetricsPortOption,
    PortOption,
    SampleIntervalOption,
    StartOverOption,
)
from license_service.cli.serve_command import Started, start
from license_service.errors import ConfigurationError
from license_service.metering.cluster_view import ClusterId
from license_service.runtime.fleet_demo_plan import MAX_DEMO_CLUSTERS, cluster_count_problem
from license_service.runtime.options import (
    DEFAULT_HISTORY_DAYS,
    DEFAULT_METRICS_PORT,
    DEFAULT_PORT,
    DEMO_DATA_DIR,
    MAX_HISTORY_DAYS,
    ServeOptions,
)

if TYPE_CHECKING:
    from license_service.cluster.simulated import SimulatedCluster

DEMO_HOST: Final = "127.0.0.1"
DEMO_CLUSTER_NAME: Final = "demo-cluster (simulated)"
# The demo talks to a person on the terminal: warnings only, unless --log-level says more.
DEMO_LOG_LEVEL: Final = "WARNING"
# The status page goes through /, which keeps the token for the browser tab, so the
# status page's own links (another period, back to /) work without typing it.
_PAGES: Final = (
    ("/", "the simplified interface: every API, a period picker"),
    ("/?open=status", "status page: collector, usage now, 30-day peaks, coverage"),
    ("/products", "products and their peaks, last 30 days (JSON)"),
    ("/bundled_products", "products counted towards Cloud Paks"),
    ("/services", "services of bundled products"),
    (
        # IBM WebSphere Liberty of the simulated cluster (cluster/simulated.py).
        "/usage_explained?productId=e7daa2b6fd4a4ac7bd9e1a31e3ab7e60"
        "&metricName=VIRTUAL_PROCESSOR_CORE",
        "where Liberty's peak comes from: namespace, workload, node, capped cores",
    ),
    ("/health", "what the service cannot measure, and why"),
    ("/snapshot", "the audit snapshot of the last 30 days (zip)"),
    ("/chargeback_groups", "chargeback groups: the teams' namespaces, as labelled now"),
    ("/products?groupName=retail", "the retail team's products (a chargeback group)"),
)


def demo_command(
    *,
    host: HostOption = DEMO_HOST,
    port: PortOption = DEFAULT_PORT,
    metrics_port: MetricsPortOption = DEFAULT_METRICS_PORT,
    data_dir: Annotated[
        Path,
        flags.data_dir(
            "Directory of the demo's database, API token and signing key.", show_default=True
        ),
    ] = DEMO_DATA_DIR,
    sample_interval: SampleIntervalOption = 300,
    history_days: Annotated[
        int,
        typer.Option(
            "--history-days",
            hidden=True,
            min=0,
            max=MAX_HISTORY_DAYS,
            help=f"Days of history to backfill (0 to {MAX_HISTORY_DAYS}).",
        ),
    ] = DEFAULT_HISTORY_DAYS,
    seed: Annotated[
        int, typer.Option("--seed", hidden=True, help="Seed of the simulated cluster.")
    ] = 0,
    log_level: Annotated[
        str | None, flags.log_level(f"{flags.LOG_LEVELS} (default: WARNING).")
    ] = None,
    start_over: StartOverOption = False,
    clusters: Annotated[
        int,
        typer.Option(
            "--clusters",
            metavar="N",
            help=f"Run N simulated clusters (2 to {MAX_DEMO_CLUSTERS}) pushing into a License "
            "Service Reporter on --port (the clusters on the N ports after it), and print the "
            "fleet view's URL.",
        ),
    ] = 1,
    database_url: Annotated[
        str | None,
        flags.database_url(
            "With --clusters: the Reporter's PostgreSQL database (default: a SQLite file in "
            "--data-dir, a trial)."
        ),
    ] = None,
    reporter_url: Annotated[
        str | None, typer.Option("--reporter-url", hidden=True, help="Push to this Reporter.")
    ] = None,
    reporter_token_file: Annotated[
        Path | None,
        typer.Option("--reporter-token-file", hidden=True, help="The Reporter's token file."),
    ] = None,
    cluster_name: Annotated[
        str, typer.Option("--cluster-name", hidden=True, help="The simulated cluster's name.")
    ] = DEMO_CLUSTER_NAME,
) -> None:
    """Run the service on a simulated cluster with 90 days of history, and print its URLs."""
    from license_service.cluster.simulated import SimulatedCluster, SimulatedClusterSource
    from license_service.runtime.log_configuration import configure_logging
    from license_service.runtime.service import run
    from license_service.runtime.wiring import ClusterChoice, utc_now

    if (problem := cluster_count_problem(clusters)) is not None:
        raise ConfigurationError(problem)
    if clusters > 1:
        if reporter_url is not None or reporter_token_file is not None:
            raise ConfigurationError(
                "--clusters starts its own Reporter: give no --reporter-url with it"
            )
        _run_fleet(
            clusters=clusters,
            host=host,
            port=port,
            data_dir=data_dir,
            database_url=database_url,
            sample_interval=sample_interval,
            history_days=history_days,
            start_over=start_over,
            log_level=log_level,
        )
        return
    if database_url is not None:
        raise ConfigurationError(
            "--database-url is the Reporter's database: it goes with --clusters N (2 or more); "
            "the one-cluster demo keeps its store in --data-dir"
        )
    options = ServeOptions(
        host=host,
        port=port,
        metrics_port=metrics_port,
        data_dir=data_dir,
        sample_interval=timedelta(seconds=sample_interval),
        log_level=log_level or DEMO_LOG_LEVEL,
        start_over=start_over,
        config_file=demo_config_file(
            data_dir,
            reporter_url=reporter_url,
            initial_days=max(history_days, 1),
        ),
        reporter_url=reporter_url,
        reporter_token_file=reporter_token_file,
    )
    options.check()
    configure_logging(options.log_level or DEMO_LOG_LEVEL)
    cluster = SimulatedCluster(seed=seed)
    started = start(
        options,
        ClusterChoice(
            source=SimulatedClusterSource(cluster, utc_now),
            cluster_id=cluster.cluster_id,
            cluster_name=cluster_name,
        ),
    )
    console = Console(highlight=False)
    try:
        stored = _fill_history(started, cluster, days=history_days, console=console)
        _upload_api_calls(started, cluster_id=cluster.cluster_id, days=history_days, seed=seed)
    except KeyboardInterrupt:
        started.listeners.close()
        started.service.close()
        console.print(
            "Interrupted: the history stored so far is kept; run the demo again to go on."
        )
        raise typer.Exit(130) from None
    except BaseException:
        started.listeners.close()
        started.service.close()
        raise
    _print_welcome(started, stored=stored, days=history_days, console=console)
    run(started.service, started.listeners)


def _fill_history(
    started: Started, cluster: SimulatedCluster, *, days: int, console: Console
) -> int:
    from license_service.runtime.history import fill_history

    service = started.service
    fill = functools.partial(
        fill_history,
        service.database,
        cluster,
        days=days,
        settings=service.config.current().metering,
        chargeback=service.config.current().chargeback_enabled,
        live_interval=service.options.sample_interval,
    )
    with Progress(
        TextColumn("Backfilling {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(f"{days} days of history", total=None)

        def report(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        stored = fill(now=service.clock(), progress=report)
    # The backfill took a while: fill the sampling instants that passed meanwhile.
    return stored + fill(now=service.clock())


DEMO_CONFIG_FILE: Final = "demo-ibmlicensing.yaml"


def demo_config_file(
    data_dir: Path, *, reporter_url: str | None = None, initial_days: int = 1
) -> Path:
    """The demo's ``IBMLicensing`` document in ``data_dir``: written once, chargeback on;
    with ``reporter_url`` (a fleet demo's cluster), a sender whose first push covers
    ``initial_days`` (``--reporter-url`` names the Reporter at every start)."""
    from license_service.cluster.simulated import DEMO_EXCLUDED_NAMESPACES
    from license_service.runtime.paths import DataDir

    path = data_dir / DEMO_CONFIG_FILE
    if not path.exists():
        DataDir(data_dir).create()
        sender = (
            f"  sender:\n    reporterURL: '{reporter_url}'\n    initialDays: {initial_days}\n"
            if reporter_url is not None
            else ""
        )
        path.write_text(
            "# The demo's configuration (SPEC 6), followed live: edit it while the demo runs.\n"
            "apiVersion: operator.ibm.com/v1alpha1\n"
            "kind: IBMLicensing\n"
            "metadata:\n"
            "  name: instance\n"
            "spec:\n"
            "  chargebackEnabled: true\n"
            "  features:\n"
            f"    excludeNamespace: '{DEMO_EXCLUDED_NAMESPACES}'\n" + sender,
            encoding="utf-8",
        )
    return path


def _run_fleet(
    *,
    clusters: int,
    host: str,
    port: int,
    data_dir: Path,
    database_url: str | None,
    sample_interval: int,
    history_days: int,
    start_over: bool,
    log_level: str | None,
) -> None:
    """``--clusters N``: a Reporter and N simulated clusters, until Ctrl+C or SIGTERM."""
    from license_service.cli.demo_fleet import run_fleet_demo
    from license_service.runtime.fleet_demo_plan import plan_fleet

    plan = plan_fleet(
        clusters=clusters,
        host=host,
        port=port,
        data_dir=data_dir,
        database_url=database_url,
        sample_interval=timedelta(seconds=sample_interval),
        history_days=history_days,
        start_over=start_over,
        log_level=log_level,
    )
    run_fleet_demo(plan, history_days=history_days, console=Console(highlight=False))


def _upload_api_calls(started: Started, *, cluster_id: ClusterId, days: int, seed: int) -> None:
    """Upload API Connect's daily API calls (SPEC 10), so uploaded usage shows at once."""
    from license_service.runtime.demo_uploads import upload_demo_usage

    service = started.service
    upload_demo_usage(
        service.database, cluster_id=cluster_id, now=service.clock(), days=days, seed=seed
    )


def welcome_summary(*, cluster_id: str, days: int, stored: int, interval_seconds: int) -> str:
    """The demo's first line: the cluster, its history and the sampling interval; pure."""
    history = (
        f"{days} days of history ({stored} samples of history stored)"
        if stored
        else f"{days} days of history already in the store (nothing to backfill)"
    )
    return (
        f"License Service demo: a simulated cluster ({cluster_id}), {history}; "
        f"a new sample every {interval_seconds} s."
    )


def _print_welcome(started: Started, *, stored: int, days: int, console: Console) -> None:
    from license_service.runtime.addresses import base_url

    service, listeners = started.service, started.listeners
    api = base_url(listeners.api, scheme=service.scheme)
    tokens = service.tokens.current().tokens
    token = tokens[0] if tokens else "<API token>"
    print_line = functools.partial(console.print, markup=False, soft_wrap=True)
    print_line(
        welcome_summary(
            cluster_id=service.cluster.cluster_id,
            days=days,
            stored=stored,
            interval_seconds=int(service.options.sample_interval.total_seconds()),
        )
    )
    print_line()
    print_line(
        "Open in a browser. The API token is part of these URLs because this is a demo: "
        "`license-service serve` never prints it."
    )
    for path, what in _PAGES:
        separator = "&" if "?" in path else "?"
        print_line(f"  {api}{path}{separator}token={token}")
        print_line(f"      {what}")
    print_line()
    print_line("Or with curl:")
    print_line(f"  curl '{api}/products?token={token}'")
    print_line(f"  curl -H 'Authorization: Bearer {token}' {api}/bundled_products")
    print_line(f"  curl -OJ '{api}/snapshot?token={token}'")
    if listeners.metrics is not None:
        print_line(f"  curl {base_url(listeners.metrics, scheme='http')}/metrics")
    print_line()
    data_dir = service.data_dir.root
    print_line(
        f"The token is kept in {service.token_place}; rotate it with "
        f"`license-service token generate --data-dir {data_dir}`."
    )
    print_line(
        "IBM API Connect's API calls arrive through the upload API (ADD_MONTHLY: the month's "
        "running total, in /bundled_products and in its Cloud Pak). Add a value with:"
    )
    print_line(
        f"  license-service upload --url {api} --data-dir {data_dir} --product-id users "
        "--product-name Portal --metric AUTHORIZED_USER --value 42"
    )
    print_line(f"Data: {data_dir.resolve()} (delete it to start over).")
    print_line("Stop with Ctrl+C.")
