"""Benchmark 9: what keeping usage explanations (SPEC 9) adds to one sample at 150,000 pods.

The view is built in-process as the decoder shapes it (replicas of a workload share
their annotations, containers and controller), from the same product catalogue as
the generated cluster (``cluster_generator``): 15,000 workloads of 10 replicas on
5,000 nodes, a third of them licensed. In the same run, each timed as the median
of ``repeats``:

- the sample without explanations: ``measure`` and ``record_sample`` (SQLite);
- a sample that raises every peak (the day's first): the same, plus the check of
  which peaks it raises, ``explain_usage`` and the kept rows written in the same
  transaction (``keep_peak_explanations``): the worst case;
- a sample that raises none (most samples of a day): the same plus the check alone
  (timed by itself: which of the day's kept quantities the sample raises).

``python -m bench.explanation_benchmark [--pods N]`` runs it alone.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from bench.cluster_generator import product_catalogue
from bench.results import BenchmarkResult, Figure, at_most, print_result, ratio
from bench.scales import FULL, Scale
from license_service.metering.cluster_view import (
    ClusterId,
    ClusterView,
    Container,
    Controller,
    Node,
    Pod,
)
from license_service.metering.measuring import measure
from license_service.metering.settings import MeteringSettings
from license_service.metering.usage_explanations import explain_usage
from license_service.sampling.peak_explanations import keep_peak_explanations
from license_service.store.database import Database, sqlite_url
from license_service.store.samples import record_sample

ADDED_TARGET: Final = 0.10
CLUSTER: Final = ClusterId("bench-explained")
REPLICAS: Final = 10
_NODE_CPUS: Final = (4, 8, 8, 16, 16, 16, 32, 32, 48, 64, 96)
_CPU_LIMITS: Final = ("100m", "250m", "500m", "1", "1500m", "2", "4", None)


def cluster_view(pods: int, nodes: int, *, seed: int = 1) -> ClusterView:
    """A cluster of ``pods`` pods on ``nodes`` nodes, parts shared as the decoder shares them."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible layout, not a secret
    node_values = tuple(
        Node(
            name=f"node-{index:05}",
            cpu_capacity=str(_NODE_CPUS[index % len(_NODE_CPUS)]),
            cpu_allocatable=None,
            pvu_per_core="100" if index % 7 == 0 else None,
        )
        for index in range(nodes)
    )
    catalogue = product_catalogue()
    namespaces = [f"team-{index:03}" for index in range(max(3, pods // 300))]
    built: list[Pod] = []
    for workload in range(pods // REPLICAS):
        licensed = workload % 3 == 0
        annotations = dict(catalogue[workload % len(catalogue)].annotations) if licensed else {}
        containers = (
            Container("app", rng.choice(_CPU_LIMITS)),
            Container("istio-proxy", "500m"),
        )
        template_hash = f"{workload:010x}"
        controller = Controller("ReplicaSet", f"app-{workload}-{template_hash}", template_hash)
        namespace = namespaces[workload % len(namespaces)]
        for replica in range(REPLICAS):
            built.append(
                Pod(
                    namespace=namespace,
                    name=f"app-{workload}-{template_hash}-{replica}",
                    node_name=node_values[rng.randrange(nodes)].name,
                    containers=containers,
                    annotations=annotations,
                    controller=controller,
                )
            )
    return ClusterView(pods=tuple(built), nodes=node_values)


def _median(action: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(scale: Scale, *, pods: int | None = None) -> BenchmarkResult:
    """Benchmark 9 at ``scale`` (``pods`` overrides its pod count)."""
    started = time.perf_counter()
    count = pods or scale.pods
    view = cluster_view(count, scale.nodes if pods is None else max(20, count // 30))
    settings = MeteringSettings()
    repeats = max(3, scale.sample_repeats)
    instants = iter(datetime(2026, 11, 2, tzinfo=UTC) + timedelta(days=d) for d in range(10_000))
    with tempfile.TemporaryDirectory() as directory:
        database = Database.open(sqlite_url(Path(directory) / "explained.db"))
        try:

            def sample(*, explained: bool) -> int:
                # A new day each time: every peak is raised, every breakdown is kept.
                taken_at = next(instants)
                measurement = measure(view, settings)
                with database.begin() as connection:
                    record_sample(
                        connection,
                        cluster_id=CLUSTER,
                        taken_at=taken_at,
                        measurement=measurement,
                        interval_seconds=300,
                    )
                    if explained:
                        return keep_peak_explanations(
                            connection,
                            cluster_id=CLUSTER,
                            taken_at=taken_at,
                            view=view,
                            settings=settings,
                            measurement=measurement,
                        )
                return 0

            def same_day_check() -> None:
                # A later sample of an explained day: the check finds nothing raised.
                measurement = measure(view, settings)
                taken_at = last_day + timedelta(minutes=5 * next(minutes))
                started = time.perf_counter()
                with database.begin() as connection:
                    keep_peak_explanations(
                        connection,
                        cluster_id=CLUSTER,
                        taken_at=taken_at,
                        view=view,
                        settings=settings,
                        measurement=measurement,
                    )
                check_times.append(time.perf_counter() - started)

            sample(explained=False)  # warm: the first transaction creates the file's pages
            # A day whose peaks are explained already: its later samples raise nothing.
            last_day = next(instants)
            minutes = iter(range(1, 10_000))
            with database.begin() as connection:
                measurement = measure(view, settings)
                record_sample(
                    connection,
                    cluster_id=CLUSTER,
                    taken_at=last_day,
                    measurement=measurement,
                    interval_seconds=300,
                )
                kept = keep_peak_explanations(
                    connection,
                    cluster_id=CLUSTER,
                    taken_at=last_day,
                    view=view,
                    settings=settings,
                    measurement=measurement,
                )
            # Interleaved, so that a change of load on the machine touches all three alike.
            plain_times, raising_times, check_times = [], [], []
            for _ in range(repeats):
                plain_times.append(_median(lambda: sample(explained=False), 1))
                raising_times.append(_median(lambda: sample(explained=True), 1))
                same_day_check()
            check = statistics.median(check_times)
            explain_alone = _median(lambda: explain_usage(view.pods, view.nodes, settings), repeats)
            every = explain_usage(view.pods, view.nodes, settings)
            rows = sum(len(e.contributions) for e in every.values())
            largest = max(every, key=lambda key: len(every[key].contributions))
            explain_one = _median(
                lambda: explain_usage(view.pods, view.nodes, settings, only={largest}), repeats
            )
        finally:
            database.dispose()
    plain = statistics.median(plain_times)
    raising = statistics.median(raising_times)
    return BenchmarkResult(
        9,
        f"Keeping usage explanations, one sample at {len(view.pods):,} pods",
        figures=(
            Figure(
                "sample without explanations (measure + record_sample), median", plain * 1000, "ms"
            ),
            Figure("sample raising every peak, breakdowns kept, median", raising * 1000, "ms"),
            Figure(
                "the check of a sample raising no peak (its own transaction), median",
                check * 1000,
                "ms",
            ),
            Figure("explain_usage alone, every row, median", explain_alone * 1000, "ms"),
            Figure(
                "explain_usage of the one row raised (the largest product), median",
                explain_one * 1000,
                "ms",
            ),
            Figure("explained rows kept per sample raising every peak", kept, "rows"),
            Figure("contributions in those rows", rows, "rows"),
        ),
        checks=(
            ratio(
                "explaining the largest product alone / measure + record_sample",
                explain_one / plain,
            ),
            at_most(
                "explanations added to a sample raising every peak",
                max(0.0, raising / plain - 1) * 100,  # below 0: lost in the noise
                ADDED_TARGET * 100,
                "%",
            ),
            at_most(
                "explanations added to a sample raising no peak (most samples)",
                check / plain * 100,
                ADDED_TARGET * 100,
                "%",
            ),
        ),
        notes=(
            "Same process, same view, same SQLite file; the three kinds of sample are "
            f"interleaved ({repeats} of each) so that the machine's load touches them alike.",
        ),
        seconds=time.perf_counter() - started,
    )


def main() -> None:
    """``python -m bench.explanation_benchmark [--pods N]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=None)
    arguments = parser.parse_args()
    print_result(run(FULL, pods=arguments.pods))


if __name__ == "__main__":
    main()
