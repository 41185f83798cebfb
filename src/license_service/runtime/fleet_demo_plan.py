"""The fleet demo's layout (``license-service demo --clusters N``): which processes, on which
ports, in which directories, with which command lines; pure.

A Reporter on ``--port`` and N simulated clusters on the N ports after it, each cluster a
``license-service demo`` of its own (seed ``k - 1``, so cluster 1 is the one-cluster
demo's cluster; other seeds give other daily levels, noise and placements, hence other
histories), with its own data directory, signing key and API token, pushing to the
Reporter with the Reporter's token file. Everything lives under ``DATA_DIR/fleet``:
``reporter/`` (token, signing key, SQLite database unless ``--database-url``), ``cluster-K/``
and ``logs/``. The clusters serve no metrics port (fewer ports to find free).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Final

from license_service.errors import ConfigurationError
from license_service.runtime.addresses import url_for
from license_service.tokens.kinds import REPORTER_TOKEN

MAX_DEMO_CLUSTERS: Final = 10
FLEET_DIR: Final = "fleet"
REPORTER_DIR: Final = "reporter"
REPORTER_DATABASE_FILE: Final = "reporter.db"
HIGHEST_PORT: Final = 65_535
REPORTER_DATABASE_VARIABLE: Final = "LICENSE_SERVICE_REPORTER_DATABASE_URL"


@dataclass(frozen=True, slots=True)
class FleetProcess:
    """One process of the fleet demo: its name, command line, API URL and data directory."""

    name: str
    arguments: tuple[str, ...]
    port: int
    url: str
    data_dir: Path
    log_file: Path
    environment: tuple[tuple[str, str], ...] = ()
    """Variables added to the process's environment (the Reporter's database URL, which
    may hold a password: an argument would show in ``ps``)."""


@dataclass(frozen=True, slots=True)
class FleetPlan:
    """The Reporter and its clusters, and where the Reporter keeps its token."""

    root: Path
    host: str
    reporter: FleetProcess
    clusters: tuple[FleetProcess, ...]
    reporter_url: str
    reporter_token_file: Path
    database_url: str


def cluster_count_problem(clusters: int) -> str | None:
    """What is wrong with ``--clusters N``, or ``None``; pure."""
    if 1 <= clusters <= MAX_DEMO_CLUSTERS:
        return None
    return (
        f"--clusters {clusters} is not allowed: give 2 to {MAX_DEMO_CLUSTERS} for simulated "
        "clusters pushing into a License Service Reporter (the fleet view), or 1 (the default) "
        "for the one-cluster demo"
    )


def demo_cluster_name(number: int) -> str:
    """The name cluster ``number`` (from 1) pushes as and shows on its pages."""
    return f"demo-cluster-{number} (simulated)"


def plan_fleet(
    *,
    clusters: int,
    host: str,
    port: int,
    data_dir: Path,
    database_url: str | None,
    sample_interval: timedelta,
    history_days: int,
    start_over: bool = False,
    log_level: str | None = None,
    python: str = sys.executable,
) -> FleetPlan:
    """The processes of a fleet of ``clusters``; ``ConfigurationError`` for a port range that
    does not fit or a cluster count out of bounds."""
    if (problem := cluster_count_problem(clusters)) is not None or clusters < 2:
        raise ConfigurationError(problem or "a fleet needs --clusters 2 or more")
    if port <= 0 or port + clusters > HIGHEST_PORT:
        raise ConfigurationError(
            f"--port {port} is not allowed with --clusters {clusters}: the Reporter takes "
            f"--port and the clusters the {clusters} ports after it; give a port from 1 to "
            f"{HIGHEST_PORT - clusters}"
        )
    root = data_dir.resolve() / FLEET_DIR
    logs = root / "logs"
    reporter_dir = root / REPORTER_DIR
    database = database_url or f"sqlite:///{reporter_dir / REPORTER_DATABASE_FILE}"
    reporter_url = url_for(host, port, scheme="http")
    token_file = reporter_dir / REPORTER_TOKEN.file_name
    command = (python, "-m", "license_service")
    levels = ("--log-level", log_level) if log_level else ()
    reporter = FleetProcess(
        name="Reporter",
        arguments=(
            *command,
            "reporter",
            "--host",
            host,
            "--port",
            str(port),
            "--data-dir",
            str(reporter_dir),
            *(levels or ("--log-level", "WARNING")),
        ),
        port=port,
        url=reporter_url,
        data_dir=reporter_dir,
        log_file=logs / "reporter.log",
        environment=((REPORTER_DATABASE_VARIABLE, database),),
    )
    members = []
    for number in range(1, clusters + 1):
        cluster_dir = root / f"cluster-{number}"
        members.append(
            FleetProcess(
                name=demo_cluster_name(number),
                arguments=(
                    *command,
                    "demo",
                    "--host",
                    host,
                    "--port",
                    str(port + number),
                    "--metrics-port",
                    "0",
                    "--data-dir",
                    str(cluster_dir),
                    "--sample-interval",
                    str(int(sample_interval.total_seconds())),
                    "--history-days",
                    str(history_days),
                    "--seed",
                    str(number - 1),
                    "--cluster-name",
                    demo_cluster_name(number),
                    "--reporter-url",
                    reporter_url,
                    "--reporter-token-file",
                    str(token_file),
                    *levels,
                    *(("--start-over",) if start_over else ()),
                ),
                port=port + number,
                url=url_for(host, port + number, scheme="http"),
                data_dir=cluster_dir,
                log_file=logs / f"cluster-{number}.log",
            )
        )
    return FleetPlan(
        root=root,
        host=host,
        reporter=reporter,
        clusters=tuple(members),
        reporter_url=reporter_url,
        reporter_token_file=token_file,
        database_url=database,
    )
