"""A real ``license-service serve`` on a fake cluster, and what the fault tests read of it.

``FaultCluster`` is the fake API server of ``tests.kubernetes_fake`` holding the seed's
namespace, a 16-core worker, the ``mq`` namespace and a kept signing key (as
``tests.e2e.kubernetes.cluster``), with ``start(sample_interval=...)`` running
``license-service serve --kubeconfig ...`` against it. The readers judge the service
from outside, as an operator or auditor would: ``/health``, ``/products``, ``/metrics``,
its log, and its store (the SQLite file in its data directory, read with the store's own
functions).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from license_service.metering.cluster_view import ClusterId
from license_service.runtime.paths import DataDir
from license_service.store.database import Database
from license_service.store.sampling_gaps import Gap, gaps
from license_service.store.tables import missed_samples, sample_products, samples
from tests.e2e.kubernetes.cluster import (
    PRODUCT_ID,
    Cluster,
    licensed_pod,
    metric_values,
    usage_now,
)
from tests.e2e.processes import ServiceProcess, eventually, start_service
from tests.kubernetes_fake.server import FakeApiServer

__all__ = ["licensed_pod", "usage_now"]

PODS_PATH = "/api/v1/pods"
"""The path of the collector's list and watch of pods (all namespaces)."""
PODS = f"^{PODS_PATH}$"
"""A fault path matching exactly the collector's list and watch of pods."""


@pytest.fixture
def fault_cluster(tmp_path: Path, faults_signing_key: bytes) -> Iterator[FaultCluster]:
    """A fake API server (bookmarks every 0.1 s) ready for services; all stopped after.

    ``faults_signing_key`` (``tests/faults/conftest.py``) is kept in the cluster's Secret,
    which spares every start generating an RSA key.
    """
    with FakeApiServer(bookmark_interval=0.1) as api:
        cluster = FaultCluster(Cluster.prepare(api, tmp_path, signing_key_pem=faults_signing_key))
        try:
            yield cluster
        finally:
            cluster.stop_all()


@dataclass
class FaultCluster:
    """The fake cluster and the services started on it."""

    base: Cluster
    started: list[ServiceProcess] = field(default_factory=list)

    @property
    def api(self) -> FakeApiServer:
        """The fake API server."""
        return self.base.api

    def start(self, *, sample_interval: int = 1) -> Service:
        """Start ``serve --kubeconfig`` sampling every ``sample_interval`` seconds."""
        directory = self.base.directory / f"run-{len(self.started)}"
        directory.mkdir()
        process = start_service(
            directory,
            dumps=(),
            sample_interval=sample_interval,
            data_dir=self.base.directory / "data",
            extra=["--kubeconfig", str(self.base.kubeconfig), "--namespace", "ibm-common-services"],
        )
        self.started.append(process)
        token = eventually(self.base.token, within=10, what="the token Secret written")
        return Service(process, token)

    def stop_all(self) -> None:
        """Stop every service started."""
        for process in self.started:
            process.stop()


@dataclass
class Service:
    """A running service and its API token."""

    process: ServiceProcess
    token: str

    def get(self, path: str, **params: str) -> httpx.Response:
        """``GET path`` with the token."""
        return httpx.get(
            f"{self.process.url}{path}", params={"token": self.token, **params}, timeout=10
        )

    def health(self) -> dict[str, Any]:
        """The ``/health`` document."""
        response = self.get("/health")
        assert response.status_code == 200, response.text
        document: dict[str, Any] = response.json()
        return document

    def day_peak(self, product_id: str) -> float:
        """The product's peak over the last 30 days (today's, in these tests)."""
        response = self.get("/products")
        assert response.status_code == 200, response.text
        return sum(row["metricQuantity"] for row in response.json() if row["id"] == product_id)

    def usage_now(self) -> float:
        """The product's usage in the latest sample (``/metrics``)."""
        return usage_now(self.process)

    def metrics(self) -> dict[str, float]:
        """Every sample of ``/metrics``, keyed ``name{label=value,...}``."""
        return metric_values(self.process)

    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.process.process.poll() is None

    def log_lines(self, pattern: str, *, level: str | None = None) -> list[str]:
        """Lines of the service's log matching ``pattern`` (and of ``level``, if given)."""
        found = re.compile(pattern)
        return [
            line
            for line in self.process.log().splitlines()
            if found.search(line) and (level is None or f" {level} " in line)
        ]

    def store(self) -> StoredSampling:
        """What the service stored about its sampling so far."""
        return read_sampling(DataDir(self.process.data_dir).database_url)


SKIPPED = "skipped: the clock jumped forward or the service was paused"
"""The reason of an instant the sampler skipped, a whole interval behind (a loaded machine
at a 1-second interval): no sample lost to the cluster's faults."""


@dataclass(frozen=True)
class StoredSampling:
    """What a store holds of sampling: the samples with the product's quantity in each
    (0 when it was not running), the instants missed with their reasons, and the gaps.
    """

    quantities: dict[datetime, int]
    missed: list[tuple[datetime, str]]
    gaps: list[Gap]

    @property
    def taken(self) -> list[datetime]:
        """The instants of the samples, oldest first."""
        return sorted(self.quantities)


def read_sampling(database_url: str, *, product_id: str = PRODUCT_ID) -> StoredSampling:
    """Read a store with the store's own functions (a second connection, read only)."""
    database = Database.open(database_url)
    try:
        with database.read() as connection:
            taken = {row.taken_at: 0 for row in connection.execute(select(samples.c.taken_at))}
            rows = connection.execute(
                select(samples.c.taken_at, sample_products.c.quantity)
                .join(sample_products, sample_products.c.sample_id == samples.c.id)
                .where(sample_products.c.product_id == product_id)
            )
            quantities = taken | {row.taken_at: row.quantity for row in rows}
            missed = [
                (row.missed_at, row.reason)
                for row in connection.execute(
                    select(missed_samples.c.missed_at, missed_samples.c.reason)
                )
            ]
            found: list[Gap] = []
            if taken:
                for (cluster_id,) in connection.execute(select(samples.c.cluster_id).distinct()):
                    # From the first sample to the last: before and after is not a gap.
                    found += gaps(
                        connection,
                        cluster_id=ClusterId(cluster_id),
                        start=min(taken),
                        end=max(taken) + timedelta(microseconds=1),
                    )
    finally:
        database.dispose()
    return StoredSampling(quantities, sorted(missed), found)


def wait_for(check: Any, *, within: float, what: str) -> Any:
    """``eventually`` of the end-to-end helpers (bounded polling)."""
    return eventually(check, within=within, what=what)
