"""Benchmark 6: the API under load, next to the minimal endpoint of the same server.

The real service runs as its own process (``license-service serve``) on a data
directory whose store holds ``products`` x ``days`` of daily peaks
(``history.HistoryStore``), with an API token file and a one-node cluster dump (its
samples add no usage to the history, but each one is a write to the store). A load
generator in another process
(``bench.load_generator``) runs closed-loop keep-alive clients against:

- ``/livez``: the minimal endpoint, the framework's own limit;
- ``/products`` for the default period (the last 30 days) and for 731 days;
- ``/bundled_products`` for the same two periods;

each with 1 and 16 clients (``Scale.api_clients``), after one first request. The
server logs at its default level (INFO: one access-log line per request), as it
runs in production.

The server keeps report bodies until the store is next written (``web.reports.cached_reports``),
so the figures come in three kinds, reported apart:

- cold: the first request of each endpoint, computed from the store (a cache miss);
- warm: the loads, with the default sampling interval (300 s): almost every answer
  comes from the cache; the samples stored during them are counted in a note;
- after each new sample: ``/products`` at 16 clients on a second server sampling
  every ``FRESH_SAMPLE_SECONDS`` seconds: each sample drops every kept body, the
  server computes the wanted ones again in the background, and the requests arriving
  meanwhile wait for it (their latency is in the p99 and max of these rows).
"""

from __future__ import annotations

import json
import secrets
import socket
import string
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import func, select

from bench.history import CLUSTER, HistoryStore
from bench.measurements import ROOT, run_child
from bench.results import BenchmarkResult, Check, Figure, at_least, at_most
from bench.scales import Scale
from license_service.store.database import Database
from license_service.store.tables import samples

THROUGHPUT_SHARE_TARGET: Final = 0.5
P99_TARGET_MS: Final = 25.0
STARTUP_SECONDS: Final = 120.0
FRESH_SAMPLE_SECONDS: Final = 5
# The loads after each sample run this many times longer, to span several samples.
FRESH_LOAD_FACTOR: Final = 2.5


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One request the load generator repeats."""

    label: str
    path: str
    authenticated: bool
    period: str = ""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def one_node_dump(path: Path) -> Path:
    """A cluster dump with one node and no pod: the sampler adds nothing to the history."""
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "bench-node"},
        "status": {"capacity": {"cpu": "8"}, "allocatable": {"cpu": "8"}},
    }
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [node]}))
    return path


class ServedStore:
    """``license-service serve`` on a history store, as a child process (a context)."""

    def __init__(
        self, history: HistoryStore, *, work_dir: Path, sample_seconds: int | None = None
    ) -> None:
        self._history = history
        self._work_dir = work_dir
        self._sample_seconds = sample_seconds
        self.token = "".join(
            secrets.choice(string.ascii_letters + string.digits) for _ in range(24)
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._log = server_log(work_dir)

    def __enter__(self) -> ServedStore:
        token_file = self._work_dir / "api-token"
        token_file.write_text(self.token + "\n")
        token_file.chmod(0o600)
        dump = one_node_dump(self._work_dir / "cluster.json")
        sampling = (
            [] if self._sample_seconds is None else [f"--sample-interval={self._sample_seconds}"]
        )
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and package
                [
                    sys.executable,
                    "-m",
                    "license_service",
                    "serve",
                    "--host=127.0.0.1",
                    f"--port={self.port}",
                    "--metrics-port=0",
                    f"--data-dir={self._history.data_dir}",
                    f"--token-file={token_file}",
                    f"--cluster-dump={dump}",
                    f"--cluster-id={CLUSTER}",
                    *sampling,
                ],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_until_live()
        return self

    def __exit__(self, *exc_info: object) -> None:
        stop_server(self._process)

    def log_lines(self, markers: tuple[str, ...]) -> list[str]:
        """The lines of the server's log holding any of ``markers``."""
        return log_lines(self._log, markers)

    def _wait_until_live(self) -> None:
        wait_until_live(self.url, self._process, self._log, command="serve")


def wait_until_live(
    url: str, process: subprocess.Popen[bytes] | None, log: Path, *, command: str
) -> None:
    """Return once ``url``'s ``/livez`` answers 200; ``RuntimeError`` with the end of ``log``
    when ``process`` exits or ``STARTUP_SECONDS`` pass first."""
    deadline = time.monotonic() + STARTUP_SECONDS
    pause = threading.Event()
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{url}/livez", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            pause.wait(0.2)
    text = log.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"license-service {command} did not start; its log:\n{text}")


def stop_server(process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM ``process`` and wait for it; killed after 20 s."""
    if process is None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def server_log(work_dir: Path) -> Path:
    """Where the servers run in ``work_dir`` write their output, one after the other."""
    return work_dir / "serve.log"


def log_lines(log: Path, markers: tuple[str, ...]) -> list[str]:
    """The lines of ``log`` holding any of ``markers``."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return [line for line in text.splitlines() if any(mark in line for mark in markers)]


def endpoints(history: HistoryStore) -> list[Endpoint]:
    """The minimal endpoint, and each report for the default period and the longest."""
    first = history.last_day - timedelta(days=min(history.days, 731) - 1)
    longest = f"dateFrom={first.isoformat()}&dateTo={history.last_day.isoformat()}"
    days = (history.last_day - first).days + 1
    return [
        Endpoint("minimal /livez", "/livez", authenticated=False),
        Endpoint("/products, default period (30 days)", "/products", True, "default"),
        Endpoint(f"/products, {days} days", f"/products?{longest}", True, "longest"),
        Endpoint("/bundled_products, default period", "/bundled_products", True, "default"),
        Endpoint(
            f"/bundled_products, {days} days", f"/bundled_products?{longest}", True, "longest"
        ),
    ]


def _url(served: ServedStore, endpoint: Endpoint) -> str:
    if not endpoint.authenticated:
        return served.url + endpoint.path
    separator = "&" if "?" in endpoint.path else "?"
    return f"{served.url}{endpoint.path}{separator}token={served.token}"


def _clients(count: int) -> str:
    return f"{count} client" if count == 1 else f"{count} clients"


def _load(url: str, *, clients: int, seconds: float) -> dict[str, Any]:
    return run_child(
        "bench.load_generator", [f"--url={url}", f"--clients={clients}", f"--seconds={seconds}"]
    )


def samples_stored(history: HistoryStore, since: datetime) -> int:
    """How many samples the server stored from ``since`` on (each one a write to the store)."""
    database = Database.open(history.database_url)
    try:
        with database.read() as connection:
            count = connection.scalar(
                select(func.count()).select_from(samples).where(samples.c.taken_at >= since)
            )
    finally:
        database.dispose()
    return int(count or 0)


def run(scale: Scale, history: HistoryStore) -> BenchmarkResult:
    """Benchmark 6 at ``scale`` on ``history``."""
    started = time.perf_counter()
    figures: list[Figure] = []
    checks: list[Check] = []
    notes: list[str] = []
    loads: dict[tuple[str, int], dict[str, Any]] = {}
    chosen = endpoints(history)
    with ServedStore(history, work_dir=history.data_dir.parent) as served:
        for endpoint in chosen:
            first = _load(_url(served, endpoint), clients=1, seconds=0)
            if first["statuses"] != {"200": 1}:
                raise RuntimeError(f"{endpoint.path} answered {first['statuses']} at first")
            what = "first request" if endpoint is chosen[0] else "cold: first request (cache miss)"
            figures.append(Figure(f"{endpoint.label}: {what}", first["max_ms"], "ms"))
        loads_started = datetime.now(UTC)
        for clients in scale.api_clients:
            for endpoint in chosen:
                load = _load(_url(served, endpoint), clients=clients, seconds=scale.api_seconds)
                if set(load["statuses"]) != {"200"}:
                    notes.append(
                        f"{endpoint.label} at {clients} clients answered {load['statuses']}"
                    )
                loads[(endpoint.label, clients)] = load
                figures += _load_figures(f"{endpoint.label}, {_clients(clients)}", load)
        during = samples_stored(history, loads_started)
        notes.append(
            f"Warm loads (every row with a client count and no sampling note): the server "
            f"samples every 300 s, as by default, and stored {during} sample(s) while they "
            "ran; nearly every answer of a report came from the cache."
        )
    most = max(scale.api_clients)
    fresh = _after_each_sample(scale, history, chosen, clients=most)
    for label, load in fresh.items():
        figures += _load_figures(label, load)
    failures = log_lines(server_log(history.data_dir.parent), ("ERROR", "Traceback", "timed out"))
    if failures:
        notes.append(f"The server logged: {failures[0][:300]}")
    minimal = chosen[0]
    for endpoint in chosen[1:]:
        for clients in scale.api_clients:
            share = (
                loads[(endpoint.label, clients)]["requests_per_second"]
                / loads[(minimal.label, clients)]["requests_per_second"]
            )
            label = f"{endpoint.label}, {_clients(clients)}: throughput / minimal endpoint"
            if endpoint.path.startswith("/products"):
                checks.append(at_least(label, share, THROUGHPUT_SHARE_TARGET, "x"))
            else:
                checks.append(Check(label, share, "x"))
        if endpoint.path.startswith("/products"):
            checks.append(
                at_most(
                    f"{endpoint.label}, {_clients(most)}: p99",
                    loads[(endpoint.label, most)]["p99_ms"],
                    P99_TARGET_MS,
                    "ms",
                )
            )
    for label, load in fresh.items():
        checks.append(Check(f"{label}: p99", load["p99_ms"], "ms"))
    notes.append(
        f"After each new sample: a second server on the same store samples every "
        f"{FRESH_SAMPLE_SECONDS} s ({300 // FRESH_SAMPLE_SECONDS}x the default rate); "
        + "; ".join(
            f"{label}: {load['samples']} samples stored, {load['requests']} requests, "
            f"max {load['max_ms']:,.0f} ms"
            for label, load in fresh.items()
        )
        + ". A request arriving just after a sample waits for the background recomputation "
        "of its body (joins it); without the cache every request would take the cold time."
    )
    notes.append(
        f"Store: {history.products:,} products x {history.days} days "
        f"({history.rows:,} rows of daily peaks and coverage, written in "
        f"{history.fill_seconds:.0f} s straight into the tables); SQLite in the data directory."
    )
    return BenchmarkResult(
        6,
        "API throughput and latency (license-service serve, closed-loop keep-alive clients)",
        figures=tuple(figures),
        checks=tuple(checks),
        notes=tuple(notes),
        seconds=time.perf_counter() - started,
    )


def _after_each_sample(
    scale: Scale, history: HistoryStore, chosen: list[Endpoint], *, clients: int
) -> dict[str, dict[str, Any]]:
    """``/products`` loads on a server storing a sample every ``FRESH_SAMPLE_SECONDS``."""
    results: dict[str, dict[str, Any]] = {}
    work_dir = history.data_dir.parent
    with ServedStore(history, work_dir=work_dir, sample_seconds=FRESH_SAMPLE_SECONDS) as served:
        for endpoint in chosen:
            if not endpoint.path.startswith("/products"):
                continue
            # Asked once first, so the load starts warm and the body is one clients want.
            with urllib.request.urlopen(_url(served, endpoint), timeout=STARTUP_SECONDS):  # noqa: S310
                pass
            since = datetime.now(UTC)
            seconds = scale.api_seconds * FRESH_LOAD_FACTOR
            load = _load(_url(served, endpoint), clients=clients, seconds=seconds)
            load["samples"] = samples_stored(history, since)
            label = (
                f"{endpoint.label}, {_clients(clients)}, a sample every {FRESH_SAMPLE_SECONDS} s"
            )
            results[label] = load
    return results


def _load_figures(who: str, load: dict[str, Any]) -> list[Figure]:
    return [
        Figure(
            f"{who}: requests/s ({load['requests']} requests)",
            load["requests_per_second"],
            "req/s",
        ),
        Figure(f"{who}: p50", load["p50_ms"], "ms"),
        Figure(f"{who}: p99", load["p99_ms"], "ms"),
    ]
