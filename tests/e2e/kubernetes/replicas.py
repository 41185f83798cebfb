"""Several ``license-service serve --leader-election`` processes on one PostgreSQL (SPEC 12).

``Replicas`` starts replicas against the fake API server, each with its own data
directory and identity (``POD_NAME``), and finds out which one leads (its ``/health``).
``Watcher`` polls, in a thread, the newest sample in the database and every live
replica's ``/health`` and ``/products``: it records each 5xx or broken answer of a
replica that was not killed, and how long after a sample appeared in the database each
replica served it (``/health``'s ``collector.lastSampleAt``).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from tests.e2e.kubernetes.cluster import NAMESPACE, Cluster
from tests.e2e.processes import ServiceProcess, eventually, start_service

POLL_SECONDS = 0.1


@dataclass
class Replica:
    """One replica process and its identity."""

    name: str
    service: ServiceProcess
    killed: bool = False
    serving_since: float = field(default_factory=time.monotonic)

    def kill(self) -> None:
        """SIGKILL: no release of the Lease, no finished sample."""
        self.killed = True
        os.kill(self.service.process.pid, signal.SIGKILL)
        self.service.process.wait()
        self.service.stop()  # it has exited: this only closes its output files


@dataclass
class Replicas:
    """The replicas started on one cluster and one database."""

    cluster: Cluster
    database_url: str
    sample_interval: int
    started: list[Replica] = field(default_factory=list)

    def start(self, name: str, *extra: str) -> Replica:
        """Start the replica ``name`` and wait until it serves."""
        run_dir = self.cluster.directory / name
        run_dir.mkdir()
        service = start_service(
            run_dir,
            dumps=(),
            sample_interval=self.sample_interval,
            data_dir=run_dir / "data",
            extra=[
                "--kubeconfig",
                str(self.cluster.kubeconfig),
                "--namespace",
                NAMESPACE,
                "--database-url",
                self.database_url,
                "--leader-election",
                *extra,
            ],
            env={**os.environ, "POD_NAME": name},
        )
        replica = Replica(name, service)
        self.started.append(replica)
        return replica

    @property
    def alive(self) -> list[Replica]:
        return [replica for replica in self.started if not replica.killed]

    def health(self, replica: Replica) -> dict[str, object]:
        answer = httpx.get(
            f"{replica.service.url}/health",
            headers={"Authorization": f"Bearer {self.cluster.token()}"},
            timeout=5,
        )
        answer.raise_for_status()
        document: dict[str, object] = answer.json()
        return document

    def leader(self, *, within: float = 30.0) -> Replica:
        """The replica that says it leads (waiting up to ``within`` seconds for one)."""

        def leading() -> Replica | None:
            for replica in self.alive:
                try:
                    section = self.health(replica).get("leader")
                except httpx.HTTPError:
                    continue
                if isinstance(section, dict) and section.get("isLeader"):
                    return replica
            return None

        return eventually(leading, within=within, what="a replica leading")

    def stop_all(self) -> None:
        for replica in self.started:
            if not replica.killed:
                replica.service.stop()


@dataclass
class Watcher:
    """Polls the database and every live replica until stopped (see the module docstring)."""

    replicas: Replicas
    engine: Engine
    failures: list[str] = field(default_factory=list)
    served_delays: list[float] = field(default_factory=list)
    appeared: dict[datetime, float] = field(default_factory=dict)
    requests: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _served: set[tuple[str, datetime]] = field(default_factory=set)

    @classmethod
    def on(cls, replicas: Replicas) -> Watcher:
        engine = create_engine(replicas.database_url, poolclass=NullPool)
        return cls(replicas, engine)

    def start(self) -> None:
        for target in (self._watch_database, self._watch_replicas):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self.engine.dispose()

    def newest_sample(self) -> datetime | None:
        with self.engine.connect() as connection:
            value: datetime | None = connection.execute(
                text("SELECT max(taken_at) FROM samples")
            ).scalar()
            return value

    def _watch_database(self) -> None:
        while not self._stop.is_set():
            newest = self.newest_sample()
            if newest is not None and newest not in self.appeared:
                self.appeared[newest] = time.monotonic()
            self._stop.wait(POLL_SECONDS / 2)

    def _watch_replicas(self) -> None:
        while not self._stop.is_set():
            for replica in list(self.replicas.alive):
                self._ask(replica)
            self._stop.wait(POLL_SECONDS)

    def _get(self, replica: Replica, path: str) -> httpx.Response | None:
        """The answer, or ``None`` (a failure recorded unless the replica was killed)."""
        try:
            answer = httpx.get(
                f"{replica.service.url}{path}",
                headers={"Authorization": f"Bearer {self.replicas.cluster.token()}"},
                timeout=5,
            )
        except httpx.HTTPError as error:
            if not replica.killed:
                self.failures.append(f"{replica.name} {path}: {type(error).__name__}: {error}")
            return None
        self.requests += 1
        if answer.status_code >= 500:
            self.failures.append(
                f"{replica.name} {path}: HTTP {answer.status_code}: {answer.text[:200]}"
            )
            return None
        return answer

    def _ask(self, replica: Replica) -> None:
        self._get(replica, "/products")
        answer = self._get(replica, "/health")
        if answer is None:
            return
        served = answer.json()["collector"]["lastSampleAt"]
        if served is None:
            return
        at = datetime.fromisoformat(served.replace("Z", "+00:00"))
        appeared = self.appeared.get(at)
        # Only samples committed while the replica served: one started later finds them old.
        if appeared is None or appeared < replica.serving_since:
            return
        if (replica.name, at) not in self._served:
            self._served.add((replica.name, at))
            self.served_delays.append(time.monotonic() - appeared)


def write_figures(path: Path, lines: list[str]) -> str:
    """Keep a run's figures in ``path`` and return them (the soak's go to docs/RELIABILITY.md)."""
    figures = "\n".join(lines) + "\n"
    path.write_text(figures)
    return figures
