"""Load (issue 6): many clients on a mix of endpoints while the collector follows a busy cluster.

A real ``license-service serve`` process in Kubernetes mode watches the fake API server (a
separate process) and serves a store holding months of history. While a thread writes pod
ADDED / MODIFIED / DELETED events through the API server at a steady rate, closed-loop
keep-alive clients send a weighted mix of every kind of request: the reports for the
default period and for the longest one (JSON and CSV), the status and index pages,
``/health``, ``/metrics``, the probes, and audit snapshots (rarely: they are heavy).

Two phases with the same clients and mix: a warm-up, then the measured run. Shown, in both:
not one 5xx and not one connection error (every answer a 200); p50/p99 per endpoint are
reported, not judged. Resident memory (``VmRSS``, medians over a tenth of the run) at the
start and at the end of the measured run differ by less than ``RSS_GROWTH_LIMIT_MIB``: in
the long run under 16 MiB over at least 10,000 requests, so a leak of 2 KiB a request
(keeping any request's scope, rows or answer) fails it. The warm-up lets the allocator
settle first: RSS rises by tens of MiB over the first thousands of requests while worker
threads and connections reach their working sizes. With glibc's default of 8 malloc arenas
per core it then keeps creeping (about 1-2 KiB a request, 250 -> 295 MiB over 66,000
requests) although Python's own heap does not grow; with ``MALLOC_ARENA_MAX=2`` it stays
flat (206-208 MiB from 20,000 to 69,000 requests). The server gets the allocator settings
of the image (``served_history.image_allocator_environment``), so this checks what ships.

After the stream stops, the service holds exactly the API server's pods, received every
event once (no re-list), and its latest sample measures the running pods exactly.

Sizes (``tests/soak.py``): short in ``make test``; long under ``make soak``: 50 clients,
a 10,000-request warm-up, then at least 60 s and 10,000 requests. The figures appear in the
terminal summary (a "load figures" section).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import pytest

from license_service.signing.keys import SigningKey
from tests.e2e.kubernetes.cluster import metric_values
from tests.e2e.processes import ServiceProcess, eventually
from tests.kubernetes_fake.process import FakeApiProcess
from tests.load.live_cluster import API_TOKEN, LiveCluster
from tests.load.mixed_load import Endpoint, LoadFigures, MixedLoad
from tests.load.pod_events import PRODUCTS, VPC, PodEventStream
from tests.load.served_history import (
    ALLOCATOR_VARIABLES,
    fill_store,
    image_allocator_environment,
    serve,
)
from tests.soak import soak_or

pytestmark = pytest.mark.soak

CLIENTS: Final = soak_or(20, 50)
WARM_UP_REQUESTS: Final = soak_or(300, 10_000)
SECONDS: Final = soak_or(6.0, 60.0)
MIN_REQUESTS: Final = soak_or(0, 10_000)
MAX_SECONDS: Final = soak_or(15.0, 300.0)  # per phase: a cap for a very slow machine
RSS_GROWTH_LIMIT_MIB: Final = soak_or(
    48.0, 16.0
)  # the short run is still settling: gross leaks only
EVENTS_PER_SECOND: Final = 20.0
POD_POPULATION: Final = 40
HISTORY_PRODUCTS: Final = 100  # 98 products, 2 Cloud Paks of 10 bundled products, 2 services
HISTORY_DAYS: Final = 180
LONGEST_PERIOD_DAYS: Final = 731
CATCH_UP_SECONDS: Final = 20.0


def endpoint_mix(api_port: int, metrics_port: int) -> list[Endpoint]:
    """Every kind of request, weighted roughly as a busy installation sees them."""
    today = datetime.now(UTC).date()
    first = today - timedelta(days=LONGEST_PERIOD_DAYS - 1)
    longest = f"dateFrom={first.isoformat()}&dateTo={today.isoformat()}"
    token = f"token={API_TOKEN}"
    bearer = (("Authorization", f"Bearer {API_TOKEN}"),)

    def api(
        label: str, target: str, weight: float, headers: Sequence[tuple[str, str]] = ()
    ) -> Endpoint:
        return Endpoint(label, api_port, target, weight, tuple(headers))

    return [
        api("/products", f"/products?{token}", 12),
        api("/products csv", f"/products?format=csv&{token}", 4),
        api("/products 731 days", f"/products?{longest}&{token}", 4),
        api("/products 731 days csv", f"/products?{longest}&format=csv&{token}", 2),
        api("/bundled_products", f"/bundled_products?{token}", 6),
        api("/bundled_products 731 days", f"/bundled_products?{longest}&{token}", 2),
        api("/services (bearer)", "/services", 4, bearer),
        api("/health", f"/health?{token}", 14),
        api("/status page", f"/status?{token}", 5),
        api("/ index page", "/", 4),
        api("/version", "/version", 6),
        api("/livez", "/livez", 8),
        api("/readyz", "/readyz", 6),
        Endpoint("/metrics", metrics_port, "/metrics", 8),
        api("/snapshot", f"/snapshot?{token}", 1.5),
        api("/snapshot 731 days", f"/snapshot?{longest}&{token}", 0.5),
    ]


def rss_after(figures: LoadFigures, answered: int) -> int:
    """The first resident-memory sample (KiB) taken once ``answered`` requests were answered."""
    for count, kib in figures.memory:
        if count >= answered:
            return kib
    raise AssertionError(f"the run ended before {answered} requests were answered")


def rss_level(figures: LoadFigures, first: int, last: int) -> int:
    """The median resident memory (KiB) while ``first`` to ``last`` requests were answered.

    A median over a stretch of the run, not one sample: a snapshot being written at that
    instant lifts one sample, not the level.
    """
    window = sorted(kib for count, kib in figures.memory if first <= count <= last)
    if not window:
        raise AssertionError(f"no memory sample between {first} and {last} requests answered")
    return window[len(window) // 2]


def memory_curve(figures: LoadFigures, points: int = 10) -> str:
    """Resident memory at ``points`` evenly spaced request counts, as ``count: MiB`` pairs."""
    step = max(1, figures.answered // points)
    marks = [rss_after(figures, count) for count in range(0, figures.answered + 1, step)]
    return ", ".join(f"{index * step}: {kib / 1024:.0f}" for index, kib in enumerate(marks))


def collector_view(service: ServiceProcess) -> dict[str, float]:
    """From ``/metrics``: pods held, pod events received by type, and usage per product."""
    values = metric_values(service)
    view = {"pods": values.get("license_service_kubernetes_objects{resource=pods}", -1.0)}
    for kind in ("ADDED", "MODIFIED", "DELETED"):
        key = f"license_service_kubernetes_watch_events_total{{resource=pods,type={kind}}}"
        view[kind] = values.get(key, 0.0)
    view["relists"] = values.get("license_service_kubernetes_relists_total{resource=pods}", 0.0)
    for product_id, product_name in PRODUCTS:
        key = (
            f"product_license_usage{{metricId={VPC},productId={product_id},"
            f"productName={product_name}}}"
        )
        view[product_id] = values.get(key, 0.0)
    view["server 5xx"] = sum(
        value
        for key, value in values.items()
        if key.startswith("license_service_http_requests_total{") and ",status=5" in key
    )
    return view


def problems(figures: LoadFigures) -> dict[str, object]:
    """Everything that should not happen under load: 5xx, other non-200s, connection errors."""
    found: dict[str, object] = {}
    if server_errors := figures.server_errors():
        found["5xx"] = server_errors
    if unexpected := figures.unexpected_statuses():
        found["answers other than 200"] = unexpected
    if errors := figures.errors:
        found["connection errors"] = errors
    if unanswered := [label for label, f in figures.endpoints.items() if not f.latencies]:
        found["never answered"] = unanswered
    return found


def test_fifty_clients_on_every_endpoint_while_pods_change_get_no_error_and_flat_memory(
    tmp_path: Path, report_figures: Callable[[str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in image_allocator_environment().items():
        monkeypatch.setenv(name, value)
    allocator = {k: v for k, v in os.environ.items() if k.startswith(ALLOCATOR_VARIABLES)}
    rows = fill_store(tmp_path / "data", products=HISTORY_PRODUCTS, days=HISTORY_DAYS)
    with FakeApiProcess() as fake:
        cluster = LiveCluster(fake)
        try:
            cluster.seed(signing_key_pem=SigningKey.generate().private_pem())
            stream = PodEventStream(cluster, rate=EVENTS_PER_SECOND, population=POD_POPULATION)
            stream.fill()
            service = serve(
                tmp_path / "run",
                data_dir=tmp_path / "data",
                kubeconfig=cluster.kubeconfig(tmp_path / "kubeconfig"),
            )
            try:
                eventually(
                    lambda: collector_view(service)["pods"] == POD_POPULATION,
                    within=CATCH_UP_SECONDS,
                    what=f"the service listing the {POD_POPULATION} pods",
                )
                mix = endpoint_mix(service.port, service.metrics_port)
                pid = service.process.pid
                with stream:
                    warm_up = MixedLoad(
                        mix,
                        clients=CLIENTS,
                        seconds=0.0,
                        min_requests=WARM_UP_REQUESTS,
                        max_seconds=MAX_SECONDS,
                        pid=pid,
                    ).run()
                    measured = MixedLoad(
                        mix,
                        clients=CLIENTS,
                        seconds=SECONDS,
                        min_requests=MIN_REQUESTS,
                        max_seconds=MAX_SECONDS,
                        pid=pid,
                    ).run()
                expected = {
                    "pods": float(len(cluster.pods())),
                    **{kind: float(stream.applied[kind]) for kind in stream.applied},
                    **{product: float(cores) for product, cores in stream.expected_usage().items()},
                }
                view = eventually(
                    lambda: (seen := collector_view(service)).items() >= expected.items() and seen,
                    within=CATCH_UP_SECONDS,
                    what=f"the service's view reaching the API server's {expected}",
                )
                log = service.log()
            finally:
                service.stop()
        finally:
            cluster.close()

    stretch = max(100, measured.answered // 10)
    start_kib = rss_level(measured, 0, stretch)
    end_kib = rss_level(measured, measured.answered - stretch, measured.answered)
    report_figures(
        f"load: {CLIENTS} clients; warm-up {warm_up.answered} requests in "
        f"{warm_up.seconds:.1f} s, problems {problems(warm_up) or 'none'}; measured "
        f"{measured.answered} requests in {measured.seconds:.1f} s "
        f"({measured.answered / measured.seconds:.0f} requests/s); store: {rows} history rows "
        f"({HISTORY_PRODUCTS} products x {HISTORY_DAYS} days); allocator settings of the "
        f"server: {allocator or 'glibc defaults'}\n"
        f"pod events: {stream.total} applied in {stream.seconds:.1f} s {dict(stream.applied)}, "
        f"max lag {stream.max_lag_seconds * 1000:.0f} ms; service view after: {view}\n"
        f"server RSS (medians over {stretch} requests): {start_kib / 1024:.1f} MiB at the "
        f"start of the measured run, {end_kib / 1024:.1f} MiB at its end "
        f"({(end_kib - start_kib) / 1024:+.1f} MiB, limit {RSS_GROWTH_LIMIT_MIB:g})\n"
        f"server RSS by requests answered, warm-up: {memory_curve(warm_up)}\n"
        f"server RSS by requests answered, measured: {memory_curve(measured)}\n" + measured.table()
    )

    assert problems(warm_up) == {}, "the warm-up under load"
    assert problems(measured) == {}, "the measured run under load"
    assert view["server 5xx"] == 0
    assert view["relists"] == 0, "the collector had to list again: events may have been lost"
    assert measured.answered >= MIN_REQUESTS
    assert (end_kib - start_kib) / 1024 < RSS_GROWTH_LIMIT_MIB, "resident memory grew"
    assert "Traceback" not in log
    assert [line for line in log.splitlines() if " ERROR " in line] == []
