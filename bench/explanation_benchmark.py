"""Benchmark 9: what keeping usage explanations (SPEC 9) adds to one sample at 150,000 pods.

The view is built in-process as the decoder shapes it (replicas of a workload share
their annotations, containers and controller), from the same product catalogue as
the generated cluster (``cluster_generator``): 15,000 workloads of 10 replicas on
5,000 nodes, a third of them licensed; then listed into the collector's cache
(``ClusterCache.replace``), which counts the pods' cells for explanations as it does
after a list, and every sample reads ``ClusterCache.view()`` as the sampler does.
In the same run, each timed as the median of ``repeats``:

- the sample without explanations: ``measure`` and ``record_sample`` (SQLite);
- a sample that raises every peak (the day's first): the same, plus the check of
  which peaks it raises and the kept cells and rows written in the same transaction
  (``keep_peak_explanations``), with a new workload listed since the last sample
  (what explains the cells is written again): the worst case; and the same with
  nothing new since the last kept sample;
- a sample that raises none (most samples of a day): the same plus the check alone
  (timed by itself: which of the day's kept quantities the sample raises).

Also measured: what following one pod event costs the cells, counting them after a
list, their memory, and writing out a day's kept explanations as contributions (the
prune job, once a day).

``python -m bench.explanation_benchmark [--pods N]`` runs it alone.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import random
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Final

from sqlalchemy import Connection, distinct, func, select

from bench.cluster_generator import product_catalogue
from bench.results import BenchmarkResult, Figure, at_most, print_result
from bench.scales import FULL, Scale
from license_service.cluster.kubernetes.cluster_cache import ClusterCache
from license_service.cluster.kubernetes.resource_kinds import NAMESPACES, NODES, PODS
from license_service.metering.chargeback_groups import GROUP_LABEL, namespace_groups
from license_service.metering.cluster_view import (
    ClusterId,
    ClusterView,
    Container,
    Controller,
    Namespace,
    Node,
    Pod,
)
from license_service.metering.explanation_cells import CellIndex
from license_service.metering.measuring import GroupedMeasurement, measure_in_groups
from license_service.metering.settings import MeteringSettings
from license_service.metering.usage_explanations import WHOLE_CLUSTER, explain_usage
from license_service.sampling.peak_explanations import keep_peak_explanations
from license_service.store.database import Database, sqlite_url
from license_service.store.explanation_write_out import write_out_explanations
from license_service.store.samples import record_sample
from license_service.store.tables import open_explanations
from license_service.store.usage_explanations import kept_explanations

ADDED_TARGET: Final = 0.10
CLUSTER: Final = ClusterId("bench-explained")
REPLICAS: Final = 10
GROUPS: Final = 50
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
    # The team namespaces in GROUPS chargeback groups, round-robin (as benchmark 8's).
    labelled = tuple(
        Namespace(name, labels={GROUP_LABEL: f"group-{index % GROUPS:02}"})
        for index, name in enumerate(namespaces)
    )
    return ClusterView(pods=tuple(built), nodes=node_values, namespaces=labelled)


def _timed(action: Callable[[], object]) -> tuple[float, float]:
    """The wall and CPU seconds of one call of ``action``."""
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def _added(with_: float, without: float) -> float:
    """What ``with_`` adds to ``without``, in per cent (below 0: lost in the noise)."""
    return max(0.0, with_ / without - 1) * 100


def run(scale: Scale, *, pods: int | None = None) -> BenchmarkResult:
    """Benchmark 9 at ``scale`` (``pods`` overrides its pod count)."""
    started = time.perf_counter()
    count = pods or scale.pods
    view = cluster_view(count, scale.nodes if pods is None else max(20, count // 30))
    # As the collector does after a list (resource_sink): the held view out of full
    # collections, which would otherwise land in whichever timing allocates most.
    gc.collect()
    gc.freeze()
    try:
        return _run(view, scale, started)
    finally:
        gc.unfreeze()


def listed(view: ClusterView) -> tuple[ClusterCache, float]:
    """A collector's cache holding ``view`` as after a list, and the CPU seconds the pods'
    list and the first view took (that view counts the cells)."""
    cache = ClusterCache()
    now = datetime.now(UTC)
    cache.replace(NODES.name, {("", node.name): node for node in view.nodes}, at=now)
    cache.replace(NAMESPACES.name, {("", ns.name): ns for ns in view.namespaces}, at=now)
    pods: dict[tuple[str, str], Pod | Node | Namespace] = {
        (pod.namespace, pod.name): pod for pod in view.pods
    }
    _, cpu = _timed(lambda: cache.replace(PODS.name, pods, at=now))
    _, counting = _timed(cache.view)  # the first view after a list counts the cells
    return cache, cpu + counting


def _event_cost(view: ClusterView, events: int = 20_000) -> float:
    """Microseconds of CPU the cells add to one pod event (a licensed pod replaced by a
    changed copy: taken out, counted again)."""
    index = CellIndex.of(view.pods)
    licensed = [pod for pod in view.pods if pod.annotations][:events]
    changed = [dataclasses.replace(pod, node_name=view.nodes[0].name) for pod in licensed]

    def follow() -> None:
        for before, after in zip(licensed, changed, strict=True):
            index.remove(before)
            index.add(after)

    _, cpu = _timed(follow)
    return cpu / len(licensed) * 1e6


def _cells_memory(view: ClusterView) -> float:
    """MiB the cells of ``view`` hold (tracemalloc, counted afresh)."""
    tracemalloc.start()
    try:
        index = CellIndex.of(view.pods)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del index
    return held / 2**20


class _Samples:
    """The samples of one run: their view (the collector's cache), store and timings."""

    def __init__(self, view: ClusterView, database: Database) -> None:
        self.settings = MeteringSettings()
        self.group_of = namespace_groups(view).group_of
        self.database = database
        self.cache, self.list_cpu = listed(view)
        self.view = self.cache.view()
        self.kept: dict[str, int] = {}
        self.parts: dict[str, list[tuple[float, float]]] = {}
        self.checks: list[tuple[float, float]] = []
        self._instants = (
            datetime(2026, 11, 2, tzinfo=UTC) + timedelta(days=d) for d in range(10_000)
        )
        self._new_workloads = iter(range(10**9))
        self._licensed = next(pod for pod in view.pods if pod.annotations)

    def new_workload(self) -> None:
        """A workload appears (a CronJob's Job, say): its name is new to the cells' log,
        so the next kept sample writes that entry too."""
        number = next(self._new_workloads)
        pod = dataclasses.replace(
            self._licensed, name=f"job-{number}-x", controller=Controller("Job", f"job-{number}")
        )
        self.cache.apply(PODS.name, [((pod.namespace, pod.name), pod)], at=datetime.now(UTC))
        self.view = self.cache.view()

    def next_day(self) -> datetime:
        """The start of a day no sample was taken on yet."""
        return next(self._instants)

    def sample(
        self, *, explained: bool, grouped: bool, at: datetime | None = None, kind: str = ""
    ) -> None:
        """One sample; a new day (every peak raised) unless ``at`` says when. ``kind``:
        record the CPU of keeping (in the transaction) and of the commit under that name."""
        taken_at = at or self.next_day()
        view, group_of = self.view, self.group_of if grouped else {}
        both = measure_in_groups(view, self.settings, group_of)
        keeping = 0.0
        with self.database.begin() as connection:
            record_sample(
                connection,
                cluster_id=CLUSTER,
                taken_at=taken_at,
                measurement=both.cluster,
                interval_seconds=300,
                groups=both.groups if grouped else None,
            )
            if explained:
                _, keeping, self.kept["grouped" if grouped else "cluster"] = self._keep(
                    connection, taken_at, view, both, group_of if grouped else None
                )
            committing = time.process_time()  # the block's end commits
        if kind:
            self.parts.setdefault(kind, []).append((keeping, time.process_time() - committing))

    def _keep(
        self,
        connection: Connection,
        taken_at: datetime,
        view: ClusterView,
        both: GroupedMeasurement,
        group_of: Mapping[str, str] | None,
    ) -> tuple[float, float, int]:
        """The wall and CPU seconds of ``keep_peak_explanations`` for this sample, and the
        rows kept (``group_of``: chargeback on, the groups of ``both`` kept too)."""
        wall, began = time.perf_counter(), time.process_time()
        kept = keep_peak_explanations(
            connection,
            cluster_id=CLUSTER,
            taken_at=taken_at,
            view=view,
            settings=self.settings,
            measurement=both.cluster,
            groups=both.groups if group_of is not None else None,
            group_of=group_of,
        )
        return time.perf_counter() - wall, time.process_time() - began, kept

    def same_day_check(self, taken_at: datetime) -> None:
        """A later sample of an explained day (groups on): the check, timed alone, finds
        nothing to keep.

        The workloads listed since the last check may have raised a peak: the day is
        first brought up to this view by an untimed sample a second earlier, so the timed
        one is a sample raising nothing (checked, not assumed).
        """
        view = self.view
        both = measure_in_groups(view, self.settings, self.group_of)
        with self.database.begin() as connection:
            self._keep(connection, taken_at - timedelta(seconds=1), view, both, self.group_of)
        with self.database.begin() as connection:
            wall, cpu, kept = self._keep(connection, taken_at, view, both, self.group_of)
        if kept:
            raise RuntimeError(f"the check of a sample raising no peak kept {kept} rows")
        self.checks.append((wall, cpu))


def _run(view: ClusterView, scale: Scale, started: float) -> BenchmarkResult:
    repeats = max(9, scale.sample_repeats)
    with tempfile.TemporaryDirectory() as directory:
        database = Database.open(sqlite_url(Path(directory) / "explained.db"))
        try:
            run = _Samples(view, database)
            timings = _interleaved(run, repeats)
            with database.read() as connection:
                days_kept = connection.execute(
                    select(func.count(distinct(open_explanations.c.day)))
                ).scalar_one()
            read_cpu, read_rows = _read_back_largest(run)
            with database.begin() as connection:
                write_wall, write_cpu = _timed(
                    lambda: write_out_explanations(connection, before=date(9999, 1, 1))
                )
            settings = run.settings
            explain_alone = statistics.median(
                _timed(lambda: explain_usage(run.view.pods, run.view.nodes, settings))[1]
                for _ in range(3)
            )
            every = explain_usage(run.view.pods, run.view.nodes, settings)
            rows = sum(len(e.contributions) for e in every.values())
        finally:
            database.dispose()
    event_cost = _event_cost(view)
    memory = _cells_memory(view)
    wall = {name: statistics.median(t[0] for t in times) for name, times in timings.items()}
    cpu = {name: statistics.median(t[1] for t in times) for name, times in timings.items()}
    groups = len(set(run.group_of.values()))
    kept, list_cpu = run.kept, run.list_cpu
    keeping = {name: statistics.median(p[0] for p in got) for name, got in run.parts.items()}
    commit = {name: statistics.median(p[1] for p in got) for name, got in run.parts.items()}
    kinds = [name for name in timings if name != "check"]

    def added_part(kind: str, plain: str) -> float:
        """What keeping adds to the ``plain`` sample: its own CPU in the transaction and
        what it adds to the commit, over the ``plain`` sample of the same round (the two
        run one after the other), the median of the rounds: the machine's speed drifts
        between rounds more than within one (as benchmark 8 found)."""
        added = [
            (kept + max(0.0, committed - plain_commit)) / plain_cpu * 100
            for (kept, committed), (_, plain_commit), (_, plain_cpu) in zip(
                run.parts[kind], run.parts[plain], timings[plain], strict=True
            )
        ]
        return statistics.median(added)

    return BenchmarkResult(
        9,
        f"Keeping usage explanations, one sample at {len(view.pods):,} pods",
        figures=(
            Figure(
                "sample without explanations (measure + record_sample), CPU median",
                cpu["plain"] * 1000,
                "ms",
            ),
            Figure(
                "sample raising every peak, cells kept, a workload new since the last "
                "(its context written too), CPU median",
                cpu["raising"] * 1000,
                "ms",
            ),
            Figure(
                "sample raising every peak, cells kept, nothing new since the last, CPU median",
                cpu["raising_known"] * 1000,
                "ms",
            ),
            Figure(
                f"with {groups} chargeback groups: sample without explanations, CPU median",
                cpu["plain_groups"] * 1000,
                "ms",
            ),
            Figure(
                f"with {groups} chargeback groups: sample raising every peak of the "
                "cluster and every group, a workload new since the last, CPU median",
                cpu["raising_groups"] * 1000,
                "ms",
            ),
            Figure(
                "keeping alone in a sample raising every peak, a workload new since the last "
                "(in its transaction; its commit), CPU medians",
                keeping["raising"] * 1000,
                "ms",
            ),
            Figure(
                "the commits of that sample / of the sample without explanations, CPU medians",
                commit["raising"] * 1000,
                f"ms / {commit['plain'] * 1000:.2f} ms",
            ),
            Figure(
                f"keeping alone with {groups} groups, CPU median",
                keeping["raising_groups"] * 1000,
                "ms",
            ),
            Figure(
                "whole samples: raising every peak (a workload new) / without explanations, "
                "CPU medians",
                _added(cpu["raising"], cpu["plain"]),
                "% added",
            ),
            Figure(
                "the check of a sample raising no peak, groups on (its transaction), CPU median",
                cpu["check"] * 1000,
                "ms",
            ),
            Figure(
                "explained rows kept by a sample raising every peak: cluster",
                kept["cluster"],
                "rows",
            ),
            Figure(
                f"explained rows kept by a sample raising every peak: cluster and {groups} groups",
                kept["grouped"],
                "rows",
            ),
            Figure("contributions in the cluster's rows", rows, "rows"),
            Figure(
                "the pods listed into the collector's cache and its first view, which "
                "counts the cells (once per list), CPU",
                list_cpu * 1000,
                "ms",
            ),
            Figure("what the cells add to one pod event, CPU", event_cost, "us"),
            Figure("the cells' memory (tracemalloc)", memory, "MiB"),
            Figure(
                f"reading today's breakdown of the largest row back from its cells "
                f"({read_rows:,} contributions; /usage_explained then keeps the body), CPU",
                read_cpu * 1000,
                "ms",
            ),
            Figure(
                "writing out one day's kept explanations as contributions (the prune job, "
                f"once a day; {days_kept} days at once), CPU per day",
                write_cpu / days_kept * 1000,
                "ms",
            ),
            Figure(
                "explain_usage of every row in memory (cells counted afresh), CPU median",
                explain_alone * 1000,
                "ms",
            ),
        ),
        checks=(
            at_most(
                "explanations added to a sample raising every peak, a workload new since "
                "the last kept (CPU of keeping and of its commit / the sample's)",
                added_part("raising", "plain"),
                ADDED_TARGET * 100,
                "%",
            ),
            at_most(
                "explanations added to a sample raising every peak, nothing new (CPU)",
                added_part("raising_known", "plain"),
                ADDED_TARGET * 100,
                "%",
            ),
            at_most(
                f"with {groups} groups: explanations added to a sample raising every peak of "
                "the cluster and every group (CPU)",
                added_part("raising_groups", "plain_groups"),
                ADDED_TARGET * 100,
                "%",
            ),
            at_most(
                "explanations added to a sample raising no peak (most samples; CPU, groups on)",
                cpu["check"] / cpu["plain_groups"] * 100,
                ADDED_TARGET * 100,
                "%",
            ),
        ),
        notes=(
            "Same process, same view, same SQLite file; the kinds of sample are interleaved "
            f"({repeats} of each) so that the machine's load touches them alike; CPU time of "
            "this process is the figure checked (the machine is shared). Wall medians of the "
            "five samples: " + ", ".join(f"{wall[name] * 1000:.0f}" for name in kinds) + " ms; "
            f"writing out {days_kept} days: {write_wall:.2f} s wall.",
            "The held view is frozen out of the garbage collector's full passes, as the "
            "collector does after a list.",
        ),
        seconds=time.perf_counter() - started,
    )


def _read_back_largest(run: _Samples) -> tuple[float, int]:
    """CPU seconds to read the newest kept breakdown of the largest row back from its
    sample's cells (what ``/usage_explained`` computes before it keeps the body), and its
    contributions."""
    assert run.view.cells is not None
    largest = max(run.view.cells.rows.items(), key=lambda item: len(item[1].counts))[0]
    table = open_explanations.c
    with run.database.read() as connection:
        # Every day of the run raised the cluster's every row: the newest open list has it.
        newest = connection.execute(
            select(func.max(table.day)).where(table.group_name == WHOLE_CLUSTER)
        ).scalar_one()
        found: list[int] = []
        _, cpu = _timed(
            lambda: found.extend(
                len(kept.explanation.contributions)
                for kept in kept_explanations(
                    connection,
                    cluster_id=CLUSTER,
                    day=newest,
                    group_name=WHOLE_CLUSTER,
                    product_id=largest.product_id,
                    metric=largest.metric,
                )
            )
        )
    return cpu, max(found)


def _interleaved(run: _Samples, repeats: int) -> dict[str, list[tuple[float, float]]]:
    """The wall and CPU seconds of each kind of sample, ``repeats`` of each interleaved (a
    change of load on the machine touches all alike), and of the check (``"check"``)."""
    # In this order: a new workload before each sample without explanations, so the
    # sample after it keeps a new entry of the log; the one after that finds it kept.
    kinds: dict[str, Callable[[], object]] = {
        "plain": lambda: run.sample(explained=False, grouped=False, kind="plain"),
        "raising": lambda: run.sample(explained=True, grouped=False, kind="raising"),
        "raising_known": lambda: run.sample(explained=True, grouped=False, kind="raising_known"),
        "plain_groups": lambda: run.sample(explained=False, grouped=True, kind="plain_groups"),
        "raising_groups": lambda: run.sample(explained=True, grouped=True, kind="raising_groups"),
    }
    renamed = {"plain", "plain_groups"}
    for action in kinds.values():
        action()  # warm: the first transactions create the file's pages
    run.parts.clear()
    # The day whose peaks are explained already (groups on): its later samples raise nothing.
    last_day = run.next_day()
    run.sample(explained=True, grouped=True, at=last_day)
    later = (last_day + timedelta(minutes=5 * n) for n in range(1, 10_000))
    timings: dict[str, list[tuple[float, float]]] = {name: [] for name in kinds}
    for _ in range(repeats):
        for name, action in kinds.items():
            if name in renamed:
                run.new_workload()
            timings[name].append(_timed(action))
        run.same_day_check(next(later))
    timings["check"] = run.checks
    return timings


def main() -> None:
    """``python -m bench.explanation_benchmark [--pods N]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=None)
    arguments = parser.parse_args()
    print_result(run(FULL, pods=arguments.pods))


if __name__ == "__main__":
    main()
