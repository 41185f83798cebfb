"""Benchmark 12: a fleet pushed into the Reporter on PostgreSQL, then read (issue 17).

A real ``license-service reporter`` runs on a fresh PostgreSQL schema (skipped with a
note when the server cannot be reached). Then:

1. ingest: ``bench.fleet_pusher`` (its own process, ``FLEET_SENDERS`` concurrent
   senders) pushes ``clusters`` clusters x ``days`` days of a ``products``-product
   catalogue (each cluster-day also has its Cloud Pak's bundled products and a
   service), at most 31 days a push, through ``POST /v1/push``: rows per second, and
   the Reporter's resident memory (``VmRSS`` every 0.2 s and ``VmHWM`` from
   ``/proc/<pid>/status``). The rows stored are counted afterwards: all must be there;
2. ``/products`` for the whole period (731 days at full size) with
   ``bench.load_generator`` at 1 and 16 clients, beside ``/livez`` in the same
   minute: p99 at 16 clients within ``P99_TARGET_MS``; the first request (cold) too;
3. the fleet snapshot next to writing the same CSV files and zip plainly: the plain
   baseline (``bench.fleet_plain_export``, csv + zipfile straight from the tables)
   is timed; the snapshot step (``GET /snapshot`` of the period) runs when the
   Reporter has the route, and is SKIPPED with a note while it answers 404.
"""

from __future__ import annotations

import contextlib
import secrets
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from bench.api_benchmark import free_port, log_lines, stop_server, wait_until_live
from bench.fleet_pusher import rows_per_day
from bench.measurements import ROOT, run_child
from bench.results import BenchmarkResult, Check, Figure, at_most, ratio
from bench.scales import Scale
from bench.store_benchmark import fresh_postgres_schema, postgres_problem, postgres_url
from license_service.fleet.tables import FLEET_PEAK_TABLES

NUMBER: Final = 12
P99_TARGET_MS: Final = 50.0
SNAPSHOT_FACTOR_TARGET: Final = 2.0
INGEST_TIMEOUT_SECONDS: Final = 3 * 3600.0
EXPORT_TIMEOUT_SECONDS: Final = 3600.0
_RSS_EVERY_SECONDS: Final = 0.2


def _proc_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/status has no {field} line: memory cannot be measured")


@dataclass
class _Memory:
    """The Reporter's resident memory, sampled in a thread while it ingests."""

    pid: int
    peak_rss_kib: int = 0
    samples: int = 0

    def follow(self, stop: threading.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError, RuntimeError):
                self.peak_rss_kib = max(self.peak_rss_kib, _proc_kib(self.pid, "VmRSS"))
                self.samples += 1
            stop.wait(_RSS_EVERY_SECONDS)


class Reporter:
    """``license-service reporter`` on ``database_url``, as a child process (a context)."""

    def __init__(self, database_url: str, work_dir: Path) -> None:
        self._database_url = database_url
        self._work_dir = work_dir
        self.token_file = work_dir / "reporter-token"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = work_dir / "reporter.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def token(self) -> str:
        """The Reporter token (a file given with ``--token-file``)."""
        return self.token_file.read_text().strip()

    def __enter__(self) -> Reporter:
        alphabet = string.ascii_letters + string.digits
        self.token_file.write_text("".join(secrets.choice(alphabet) for _ in range(32)) + "\n")
        self.token_file.chmod(0o600)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and package
                [
                    sys.executable,
                    "-m",
                    "license_service",
                    "reporter",
                    f"--database-url={self._database_url}",
                    "--host=127.0.0.1",
                    f"--port={self.port}",
                    f"--data-dir={self._work_dir / 'reporter-data'}",
                    f"--token-file={self.token_file}",
                ],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_until_live()
        return self

    def __exit__(self, *exc_info: object) -> None:
        stop_server(self.process)

    def _wait_until_live(self) -> None:
        wait_until_live(self.url, self.process, self.log, command="reporter")


def _stored_rows(database_url: str) -> int:
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return sum(
                int(connection.scalar(select(func.count()).select_from(table)) or 0)
                for table in FLEET_PEAK_TABLES.values()
            )
    finally:
        engine.dispose()


def _load(url: str, *, clients: int, seconds: float) -> dict[str, Any]:
    return run_child(
        "bench.load_generator", [f"--url={url}", f"--clients={clients}", f"--seconds={seconds}"]
    )


def _snapshot(reporter: Reporter, query: str, out: Path) -> tuple[float | None, str]:
    """Seconds of ``GET /snapshot`` of the period into ``out``; ``None`` and why when skipped."""
    request = urllib.request.Request(  # noqa: S310 - our own Reporter on 127.0.0.1
        f"{reporter.url}/snapshot?{query}",
        headers={"Authorization": f"Bearer {reporter.token}"},
    )
    started = time.perf_counter()
    try:
        with (
            urllib.request.urlopen(request, timeout=EXPORT_TIMEOUT_SECONDS) as answer,  # noqa: S310
            out.open("wb") as file,
        ):
            while chunk := answer.read(1 << 20):
                file.write(chunk)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None, (
                "Snapshot vs plain: SKIPPED, this Reporter has no GET /snapshot route yet "
                "(404); the plain baseline above is what it is to be compared with."
            )
        return None, f"Snapshot vs plain: GET /snapshot answered {exc.code}: {exc.reason}"
    return time.perf_counter() - started, ""


@contextlib.contextmanager
def _postgres(notes: list[str]) -> Iterator[str | None]:
    url = postgres_url()
    problem = postgres_problem(url)
    if problem is not None:
        notes.append(f"PostgreSQL skipped: the server is not reachable ({problem}).")
        yield None
        return
    with fresh_postgres_schema(url) as schema_url:
        yield schema_url


def run(scale: Scale) -> BenchmarkResult:
    """Benchmark 12 at ``scale``."""
    started = time.perf_counter()
    figures: list[Figure] = []
    checks: list[Check] = []
    notes: list[str] = []
    clusters, products, days = scale.fleet_clusters, scale.fleet_products, scale.fleet_days
    title = (
        f"Fleet on the Reporter: {clusters:,} clusters x {products} products x {days} days "
        "(PostgreSQL)"
    )
    with (
        _postgres(notes) as database_url,
        tempfile.TemporaryDirectory(prefix="license-service-fleet-") as directory,
    ):
        if database_url is None:
            figures.append(Figure("PostgreSQL reachable", 0, "no"))
            return BenchmarkResult(NUMBER, title, tuple(figures), (), tuple(notes))
        work = Path(directory)
        last_day = datetime.now(UTC).date() - timedelta(days=1)
        first_day = last_day - timedelta(days=days - 1)
        with Reporter(database_url, work) as reporter:
            assert reporter.process is not None
            figures += _ingest(
                scale,
                reporter,
                database_url=database_url,
                last_day=last_day,
                notes=notes,
                checks=checks,
            )
            query = f"dateFrom={first_day.isoformat()}&dateTo={last_day.isoformat()}"
            figures += _products(scale, reporter, query, days, checks)
            figures += _snapshots(
                reporter,
                database_url=database_url,
                query=query,
                period=(first_day, last_day),
                work=work,
                notes=notes,
                checks=checks,
            )
            failures = log_lines(reporter.log, ("ERROR", "Traceback"))
            if failures:
                notes.append(f"The Reporter logged: {failures[0][:300]}")
    notes.append(
        f"Each cluster-day: {rows_per_day(products)} rows ({products} /products rows, one of "
        "them a Cloud Pak, its bundled products and a service); the pushes are signed "
        "(3072-bit RSA, one key per sender) and built while the Reporter ingests, in a "
        "process of their own on the same cores. The Reporter logs at INFO (a line per push)."
    )
    return BenchmarkResult(
        NUMBER,
        title,
        figures=tuple(figures),
        checks=tuple(checks),
        notes=tuple(notes),
        seconds=time.perf_counter() - started,
    )


def _ingest(
    scale: Scale,
    reporter: Reporter,
    *,
    database_url: str,
    last_day: date,
    notes: list[str],
    checks: list[Check],
) -> list[Figure]:
    assert reporter.process is not None
    pid = reporter.process.pid
    idle_mib = _proc_kib(pid, "VmRSS") / 1024
    memory = _Memory(pid)
    stop = threading.Event()
    follower = threading.Thread(target=memory.follow, args=(stop,), daemon=True)
    follower.start()
    try:
        pushed = run_child(
            "bench.fleet_pusher",
            [
                f"--url={reporter.url}",
                f"--token-file={reporter.token_file}",
                f"--clusters={scale.fleet_clusters}",
                f"--products={scale.fleet_products}",
                f"--days={scale.fleet_days}",
                f"--last-day={last_day.isoformat()}",
                f"--senders={scale.fleet_senders}",
            ],
            timeout=INGEST_TIMEOUT_SECONDS,
        )
    finally:
        stop.set()
        follower.join()
    peak_mib = _proc_kib(pid, "VmHWM") / 1024
    after_mib = _proc_kib(pid, "VmRSS") / 1024
    if pushed["errors"]:
        raise RuntimeError(f"pushes were refused: {pushed['errors'][0]}")
    expected = scale.fleet_clusters * scale.fleet_days * rows_per_day(scale.fleet_products)
    stored = _stored_rows(database_url)
    if stored != expected or pushed["rows"] != expected:
        raise RuntimeError(
            f"{pushed['rows']:,} rows pushed and {stored:,} stored, expected {expected:,}"
        )
    rate = pushed["rows"] / pushed["seconds"]
    product_rate = rate * scale.fleet_products / rows_per_day(scale.fleet_products)
    checks.append(Check("ingest: rows stored per second", rate, "rows/s"))
    checks.append(Check("Reporter peak resident memory while ingesting", peak_mib, "MiB"))
    notes.append(
        f"Ingest: {pushed['pushes']:,} pushes of up to 31 days by {scale.fleet_senders} "
        f"concurrent senders, {pushed['bytes'] / 1e9:.2f} GB of bodies; every row was "
        f"stored ({stored:,}, counted in the tables afterwards). Memory sampled "
        f"{memory.samples:,} times (VmRSS); the peak is VmHWM."
    )
    return [
        Figure("pushes", pushed["pushes"], "pushes"),
        Figure("rows pushed (products, bundled products, services)", pushed["rows"], "rows"),
        Figure("ingest wall time", pushed["seconds"], "s"),
        Figure("rows stored per second", rate, "rows/s"),
        Figure("/products rows (daily peaks) stored per second", product_rate, "rows/s"),
        Figure("one push (31 days): p50", pushed["push_p50_ms"], "ms"),
        Figure("one push (31 days): p99", pushed["push_p99_ms"], "ms"),
        Figure("Reporter resident memory before the pushes", idle_mib, "MiB"),
        Figure(
            "Reporter resident memory, highest sampled (VmRSS)", memory.peak_rss_kib / 1024, "MiB"
        ),
        Figure("Reporter peak resident memory (VmHWM)", peak_mib, "MiB"),
        Figure("Reporter resident memory after the pushes", after_mib, "MiB"),
    ]


def _products(
    scale: Scale, reporter: Reporter, query: str, days: int, checks: list[Check]
) -> list[Figure]:
    products = f"{reporter.url}/products?{query}&token={reporter.token}"
    livez = f"{reporter.url}/livez"
    first = _load(products, clients=1, seconds=0)
    if first["statuses"] != {"200": 1}:
        raise RuntimeError(f"/products answered {first['statuses']}")
    figures = [Figure(f"/products, {days} days: first request (cold)", first["max_ms"], "ms")]
    loads: dict[tuple[str, int], dict[str, Any]] = {}
    for clients in scale.api_clients:
        for label, url in (("minimal /livez", livez), (f"/products, {days} days", products)):
            load = _load(url, clients=clients, seconds=scale.api_seconds)
            if set(load["statuses"]) != {"200"}:
                raise RuntimeError(f"{label} answered {load['statuses']}")
            loads[(label, clients)] = load
            who = f"{label}, {clients} client{'s' if clients > 1 else ''}"
            figures += [
                Figure(f"{who}: requests/s", load["requests_per_second"], "req/s"),
                Figure(f"{who}: p50", load["p50_ms"], "ms"),
                Figure(f"{who}: p99", load["p99_ms"], "ms"),
            ]
    most = max(scale.api_clients)
    p99 = loads[(f"/products, {days} days", most)]["p99_ms"]
    minimal = loads[("minimal /livez", most)]["p99_ms"]
    checks.append(at_most(f"/products, {days} days, {most} clients: p99", p99, P99_TARGET_MS, "ms"))
    checks.append(
        ratio(
            f"/products, {most} clients: p99 / minimal endpoint's p99",
            p99 / minimal if minimal else 0.0,
        )
    )
    return figures


def _snapshots(
    reporter: Reporter,
    *,
    database_url: str,
    query: str,
    period: tuple[date, date],
    work: Path,
    notes: list[str],
    checks: list[Check],
) -> list[Figure]:
    plain = run_child(
        "bench.fleet_plain_export",
        [
            f"--database-url={database_url}",
            f"--first-day={period[0].isoformat()}",
            f"--last-day={period[1].isoformat()}",
            f"--out={work / 'plain.zip'}",
        ],
        timeout=EXPORT_TIMEOUT_SECONDS,
    )
    figures = [
        Figure("plain: CSV rows", plain["rows"], "rows"),
        Figure("plain: CSV files", plain["files"], "files"),
        Figure("plain: zip size", plain["zip_bytes"] / 1e6, "MB"),
        Figure("plain: csv + zipfile from the tables", plain["seconds"], "s"),
        Figure("plain: CPU time of its process", plain["cpu_seconds"], "s"),
    ]
    (work / "plain.zip").unlink()
    # SNAPSHOT VS PLAIN: the Reporter's GET /snapshot (SPEC 11) next to the plain zip.
    seconds, skipped = _snapshot(reporter, query, work / "snapshot.zip")
    if seconds is None:
        notes.append(skipped)
        return figures
    size = (work / "snapshot.zip").stat().st_size
    figures += [
        Figure("GET /snapshot: zip size", size / 1e6, "MB"),
        Figure("GET /snapshot: time to the last byte", seconds, "s"),
    ]
    checks.append(
        at_most(
            "snapshot time / plain csv + zip",
            seconds / plain["seconds"],
            SNAPSHOT_FACTOR_TARGET,
            "x",
        )
    )
    return figures
