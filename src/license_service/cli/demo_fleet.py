"""``license-service demo --clusters N``: a Reporter and N simulated clusters pushing into it.

So a new user sees the fleet view (SPEC 11) at once: the Reporter starts first (a SQLite
file in the demo's data directory, with the Reporter's trial warning, or
``--database-url``), then the N clusters (``fleet_demo_plan``), each a ``license-service
demo`` of its own that backfills its history and pushes it all at start
(``spec.sender.initialDays`` covers the history). Once the Reporter lists every cluster
with today pushed, the URLs to open are printed, with their tokens (a demo).

Ctrl+C or SIGTERM stops every process (``child_processes``); so does one of them
failing, with the end of its log, and the command then exits non-zero.
"""

from __future__ import annotations

import functools
import signal
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from types import FrameType
from typing import Any, Final

import httpx
from rich.console import Console

from license_service.errors import ConfigurationError, LicenseServiceError
from license_service.runtime.child_processes import ChildProcess, start_child, stop_children
from license_service.runtime.fleet_demo_plan import FleetPlan, FleetProcess
from license_service.tokens.kinds import API_TOKEN

POLL_SECONDS: Final = 0.5
REPORTER_START_SECONDS: Final = 60.0
FIRST_PUSHES_SECONDS: Final = 180.0
"""How long the clusters' first pushes may take once they serve (90 days each)."""


class _Stopped(Exception):
    """SIGTERM arrived: stop everything, as Ctrl+C does."""


class ChildExited(LicenseServiceError):
    """A process of the fleet exited on its own: the fleet stops (exit code 1)."""

    def __init__(self, child: ChildProcess, code: int) -> None:
        super().__init__(
            f"the fleet demo stopped: the {child.plan.name} exited with code {code}; its log "
            f"is {child.plan.log_file} (its last lines are above)"
        )
        self.child = child


def run_fleet_demo(plan: FleetPlan, *, history_days: int, console: Console) -> None:
    """Start the Reporter and the clusters, print where to look, run until Ctrl+C or SIGTERM."""
    _check_ports_free(plan)
    # The fleet's directory holds tokens, keys and logs with tokens: this user's only.
    plan.root.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    plan.root.mkdir(mode=0o700, exist_ok=True)
    say = _printer(console)
    children: list[ChildProcess] = []
    with _sigterm_raises():
        try:
            children.append(start_child(plan.reporter))
            started = _wait(
                lambda: _serving(plan.reporter) and plan.reporter_token_file.exists(),
                children,
                within=REPORTER_START_SECONDS,
            )
            if not started:
                raise LicenseServiceError(
                    f"the Reporter did not answer on {plan.reporter_url} within "
                    f"{REPORTER_START_SECONDS:g} s; see its log {plan.reporter.log_file}"
                )
            say(
                f"Reporter started on {plan.reporter_url}. Starting {len(plan.clusters)} "
                f"simulated clusters, each backfilling {history_days} days of history "
                "(a minute or more on two cores)..."
            )
            children.extend(start_child(cluster) for cluster in plan.clusters)
            for child in children[1:]:
                _wait(functools.partial(_serving, child.plan), children, within=None)
                say(f"  {child.plan.name}: history stored, serving on port {child.plan.port}")
            token = plan.reporter_token_file.read_text(encoding="utf-8").strip()
            pushed = _wait_for_pushes(plan, token, children)
            _print_welcome(plan, token=token, all_pushed=pushed, say=say)
            _wait(lambda: False, children, within=None)
        except (KeyboardInterrupt, _Stopped):
            say("Stopping the clusters and the Reporter...")
        except ChildExited as exited:
            Console(stderr=True, highlight=False).print(
                exited.child.log_tail(), markup=False, soft_wrap=True
            )
            raise
        finally:
            stop_children(children)


def _wait(
    done: Callable[[], object], children: Sequence[ChildProcess], *, within: float | None
) -> bool:
    """Poll ``done`` until true (``True``), or ``within`` seconds pass (``False``); a child
    that exits meanwhile raises ``ChildExited``."""
    deadline = None if within is None else time.monotonic() + within
    while True:
        for child in children:
            if (code := child.exited()) is not None:
                raise ChildExited(child, code)
        if done():
            return True
        if deadline is not None and time.monotonic() > deadline:
            return False
        time.sleep(POLL_SECONDS)


def _serving(process: FleetProcess) -> bool:
    """Whether ``process`` answers ``/livez`` (a demo answers once its history is stored)."""
    try:
        with httpx.Client(timeout=2) as client:
            return client.get(f"{process.url}/livez").status_code == 200
    except httpx.HTTPError:
        return False


def _wait_for_pushes(plan: FleetPlan, token: str, children: Sequence[ChildProcess]) -> bool:
    """Wait until the Reporter lists every cluster with today pushed; whether it did in time."""

    def all_pushed() -> bool:
        clusters = _reporter_clusters(plan, token)
        today = datetime.now(UTC).date()
        return len(clusters) == len(plan.clusters) and all(
            cluster.get("lastDay") and date.fromisoformat(cluster["lastDay"]) >= today
            for cluster in clusters
        )

    return _wait(all_pushed, children, within=FIRST_PUSHES_SECONDS)


def _reporter_clusters(plan: FleetPlan, token: str) -> list[dict[str, Any]]:
    try:
        answer = httpx.get(
            f"{plan.reporter_url}/clusters",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
    except httpx.HTTPError:
        return []
    if answer.status_code != 200:
        return []
    body = answer.json()
    return body if isinstance(body, list) else []


def _check_ports_free(plan: FleetPlan) -> None:
    """Refuse to start when a port of the plan is taken, naming it and what it was for."""
    host = plan.host
    for process in (plan.reporter, *plan.clusters):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, process.port))
            except OSError as error:
                first = plan.reporter.port
                raise ConfigurationError(
                    f"port {process.port} (for the {process.name}) cannot be used on {host}: "
                    f"{error.strerror}; the fleet demo takes ports {first} to "
                    f"{first + len(plan.clusters)}: give --port P with P to "
                    f"P+{len(plan.clusters)} free"
                ) from error


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """SIGTERM raises ``_Stopped`` in the main thread while the fleet runs."""

    def on_sigterm(_signal: int, _frame: FrameType | None) -> None:
        raise _Stopped

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _printer(console: Console) -> Callable[..., None]:
    def say(*text: str) -> None:
        console.print(*text, markup=False, soft_wrap=True, highlight=False)

    return say


_REPORTER_PAGES: Final = (
    ("/", "the fleet page: periods, metric filter, clusters, charts"),
    ("/clusters", "the clusters, their last pushes and missing days (JSON)"),
    ("/products", "the fleet's products: the highest daily sum over the clusters (JSON)"),
    ("/status", "the Reporter's status: clusters, refused keys"),
)


def _print_welcome(
    plan: FleetPlan, *, token: str, all_pushed: bool, say: Callable[..., None]
) -> None:
    say()
    say(
        f"License Service fleet demo: {len(plan.clusters)} simulated clusters push their "
        f"daily peaks into a License Service Reporter, hourly and at start."
    )
    if not all_pushed:
        say("Some clusters have not pushed today yet: the fleet view fills within minutes.")
    say()
    say("Open the fleet view (the Reporter) in a browser; the token is in the URLs (a demo):")
    for path, what in _REPORTER_PAGES:
        say(f"  {plan.reporter_url}{path}?token={token}")
        say(f"      {what}")
    say()
    say("Each cluster's own License Service:")
    for cluster in plan.clusters:
        say(f"  {cluster.name}: {cluster.url}/?token={_read_token(cluster)}")
    say()
    say(f"Data and logs: {plan.root} (delete it to start over).")
    say("Stop with Ctrl+C: the clusters and the Reporter stop together.")


def _read_token(cluster: FleetProcess) -> str:
    try:
        return (cluster.data_dir / API_TOKEN.file_name).read_text(encoding="utf-8").strip()
    except OSError:
        return "<API token>"
