"""The service assembled in this process on a clock the test moves, to model long outages.

``serve`` runs on real time, and the service's limits are in minutes (a view older than 15
minutes is not sampled, SPEC 2.7): a 20-minute outage of the API server would take 20
minutes. Here the very parts ``serve`` builds (``connect_kubernetes`` then ``assemble``:
the collector's threads on the real client over real HTTP, the sampler, the store, the
Starlette app) run on a ``ManualClock``. The test moves the clock, takes the sampler's
tick itself (``take_sample``, what ``Sampler.run`` calls at every aligned instant) and asks
``/health`` through the app; only the collector's retries run on real time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from license_service.cluster.kubernetes.watch_options import WatchOptions
from license_service.runtime.kubernetes_start import connect_kubernetes
from license_service.runtime.options import KubernetesOptions, ServeOptions
from license_service.runtime.wiring import ClusterChoice, assemble
from license_service.runtime.wiring import Service as AssembledService
from license_service.sampling.status import TickOutcome
from license_service.web.application import create_app
from tests.cluster.kubernetes.doubles import ManualClock
from tests.cluster.kubernetes.polling import eventually
from tests.e2e.kubernetes.cluster import NAMESPACE, Cluster
from tests.faults.kubernetes_service import StoredSampling, read_sampling

# Reconnections between 0.5 s and 1 s apart, so the collector comes back within a second
# of real time once the API server does (the product's cap, 30 s, is for real clusters).
FAST_RETRIES = WatchOptions(backoff_cap_seconds=1.0)


@dataclass
class InProcessService:
    """The assembled service, its app, its API token and the clock it runs on."""

    service: AssembledService
    client: TestClient
    token: str
    clock: ManualClock

    def advance_to(self, instant: datetime) -> None:
        """Move the clock to ``instant`` (never backwards)."""
        step = (instant - self.clock()).total_seconds()
        assert step >= 0, f"the clock cannot go back from {self.clock()} to {instant}"
        self.clock.advance(step)

    def settle(self) -> None:
        """Wait until the collector has confirmed every resource at the clock's time."""
        source = self.service.cluster.source
        eventually(
            lambda: (
                (state := source.current()).observed_at == self.clock() and state.last_error is None
            ),
            what=f"the collector current at {self.clock().isoformat()}",
        )

    def notice_outage(self) -> None:
        """Wait until the collector has seen the API server go."""
        eventually(
            lambda: self.service.cluster.source.current().last_error, what="the outage noticed"
        )

    def tick(self) -> TickOutcome:
        """The sampler's tick at the clock's time."""
        return self.service.sampler.take_sample(self.clock())

    def get(self, path: str) -> Any:
        """``GET path`` with the token; the JSON body (the answer must be 200)."""
        response = self.client.get(path, params={"token": self.token})
        assert response.status_code == 200, response.text
        return response.json()

    def stored(self) -> StoredSampling:
        """What the store holds of sampling."""
        return read_sampling(self.service.database.url)


@contextmanager
def in_process_service(
    cluster: Cluster, *, clock: ManualClock, interval: timedelta
) -> Iterator[InProcessService]:
    """Connect to ``cluster``'s fake and assemble the service on ``clock``; close it after."""
    options = ServeOptions(
        host="127.0.0.1",
        metrics_port=0,
        data_dir=cluster.directory / "in-process-data",
        sample_interval=interval,
        kubernetes=KubernetesOptions(
            kubeconfig=Path(cluster.kubeconfig), namespace=NAMESPACE, watch=FAST_RETRIES
        ),
    )
    options.check()
    parts = connect_kubernetes(options, clock=clock)
    choice = ClusterChoice(
        source=parts.source, cluster_id=parts.cluster_id, cluster_name=parts.cluster_id
    )
    service = assemble(options, cluster=choice, backends=parts, clock=clock)
    try:
        token = cluster.token()
        assert token is not None
        with TestClient(create_app(service.state)) as client:
            yield InProcessService(service, client, token, clock)
    finally:
        service.close()
