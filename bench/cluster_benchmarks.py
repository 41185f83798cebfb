"""Benchmarks 1-4: initial sync, memory, watch throughput and one sample, on one cluster.

One list server process renders the cluster (``bench.list_server``); one collector
process synchronises with it through HTTP and measures sync time, memory, a sample
and the watch (``bench.collector_process``); one more process times the limits and
baselines on the same bytes, downloaded from the same server (``bench.decode_limits``).
Three processes on two cores: the server only copies bytes from memory, and the two
measuring processes run one after the other.
"""

from __future__ import annotations

import time

from bench.list_server import ListServerProcess
from bench.measurements import run_child
from bench.results import BenchmarkResult, Figure, at_least, at_most, ratio
from bench.scales import Scale

SYNC_SHARE_TARGET = 0.5
MODEL_FACTOR_TARGET = 25.0
RSS_TARGET_MIB = 300.0
WATCH_TARGET = 20_000.0
SAMPLE_TARGET_SECONDS = 0.2


def run(scale: Scale) -> list[BenchmarkResult]:
    """Benchmarks 1, 2, 3 and 4 at ``scale``."""
    started = time.perf_counter()
    with ListServerProcess(
        pods=scale.pods, nodes=scale.nodes, watch_events=scale.watch_events
    ) as server:
        rendered = time.perf_counter()
        collector = run_child(
            "bench.collector_process",
            [
                f"--url={server.url}",
                f"--watch-events={scale.watch_events}",
                f"--sample-repeats={scale.sample_repeats}",
            ],
        )
        limits = run_child(
            "bench.decode_limits", [f"--url={server.url}", f"--model-pods={scale.model_pods}"]
        )
    seconds = time.perf_counter() - started
    return [
        _sync(collector, limits, seconds=seconds, render_seconds=rendered - started),
        _memory(collector),
        _watch(collector, limits),
        _sample(collector),
    ]


def _sync(
    collector: dict[str, float], limits: dict[str, float], *, seconds: float, render_seconds: float
) -> BenchmarkResult:
    pods = collector["pods"]
    sync_rate = pods / collector["sync_seconds"]
    projection_rate = limits["projection_pods"] / limits["projection_seconds"]
    dict_rate = limits["projection_pods"] / limits["dict_pod_seconds"]
    model_rate = limits["model_pods"] / limits["model_seconds"]
    megabytes = limits["pod_bytes"] / 1e6
    # The same rates per CPU second of each process: a busy shared machine stretches
    # wall times unevenly between the processes, CPU times much less.
    sync_cpu_rate = pods / collector["sync_cpu_seconds"]
    projection_cpu_rate = limits["projection_pods"] / limits["projection_cpu_seconds"]
    model_cpu_rate = limits["model_pods"] / limits["model_cpu_seconds"]
    notes = (
        "The limit is the collector's own decoder (cluster/decoding.py: msgspec "
        "Structs naming only the projection's fields) decoding the same pages in-process: "
        f"about {megabytes / limits['projection_seconds']:.0f} MB/s of pod JSON including "
        "the projection, most of it msgspec skipping the fields the projection does not "
        "read. The collector adds HTTP (the official client: request, parameter "
        "validation, reading the body) and the map; the list server runs in its own "
        "process and only copies bytes from memory.",
        "The dict path (json.loads + bench/reference_translation.py, the translation the "
        "collector used before its schema decoder) "
        f"is {projection_rate / dict_rate:.0f}x slower; both build equal projections of "
        f"the whole cluster (equal: {bool(limits['typed_matches'])}).",
    )
    return BenchmarkResult(
        1,
        "Initial sync through HTTP (KubernetesSource, pages of 500)",
        figures=(
            Figure("pods / nodes / namespaces synchronised", pods, "pods"),
            Figure("nodes", collector["nodes"], "nodes"),
            Figure("pod list JSON", megabytes, "MB"),
            Figure("mean pod JSON", limits["pod_bytes"] / limits["projection_pods"] / 1e3, "KB"),
            Figure("time to synchronised", collector["sync_seconds"], "s"),
            Figure("sync rate", sync_rate, "pods/s"),
            Figure("sync rate per CPU second of the collector process", sync_cpu_rate, "pods/s"),
            Figure("limit: in-process typed decode (cluster.decoding)", projection_rate, "pods/s"),
            Figure(
                "dict path: in-process json.loads + reference translation (pods only)",
                dict_rate,
                "pods/s",
            ),
            Figure(
                f"baseline: client models (V1PodList, {limits['model_pods']:,.0f} pods)",
                model_rate,
                "pods/s",
            ),
            Figure("limit per CPU second", projection_cpu_rate, "pods/s"),
            Figure("baseline per CPU second", model_cpu_rate, "pods/s"),
            Figure("cluster rendering by the list server (not measured)", render_seconds, "s"),
        ),
        checks=(
            at_least(
                "sync / in-process projection decode",
                sync_rate / projection_rate,
                SYNC_SHARE_TARGET,
                "x",
            ),
            at_least(
                "sync / client-model decode", sync_rate / model_rate, MODEL_FACTOR_TARGET, "x"
            ),
            ratio(
                "per CPU second: sync / in-process projection decode",
                sync_cpu_rate / projection_cpu_rate,
            ),
            ratio("per CPU second: sync / client-model decode", sync_cpu_rate / model_cpu_rate),
        ),
        notes=notes,
        seconds=seconds,
    )


def _memory(collector: dict[str, float]) -> BenchmarkResult:
    pods = collector["pods"]
    held = collector["rss_after_sync_gc_mib"] - collector["rss_at_start_mib"]
    return BenchmarkResult(
        2,
        f"Resident memory with {pods:,.0f} pods synchronised",
        figures=(
            Figure(
                "resident at start (interpreter, imports)", collector["rss_at_start_mib"], "MiB"
            ),
            Figure(
                "peak resident during and after sync (VmHWM)",
                collector["peak_rss_after_sync_mib"],
                "MiB",
            ),
            Figure("resident after sync", collector["rss_after_sync_mib"], "MiB"),
            Figure(
                "resident after sync and gc.collect()", collector["rss_after_sync_gc_mib"], "MiB"
            ),
            Figure("held per pod (resident growth / pods)", held * 1024 * 1024 / pods, "bytes"),
            Figure(
                "peak resident after the sample and the watch", collector["peak_rss_end_mib"], "MiB"
            ),
        ),
        checks=(
            at_most(
                "peak resident with every pod synchronised",
                collector["peak_rss_after_sync_mib"],
                RSS_TARGET_MIB,
                "MiB",
            ),
        ),
        notes=(
            "Measured in the collector's own process (/proc/self/status VmHWM): the "
            "KubernetesSource, its three loops and the view, as the service holds them.",
        ),
    )


def _watch(collector: dict[str, float], limits: dict[str, float]) -> BenchmarkResult:
    rate = collector["watch_events"] / collector["watch_seconds"]
    limit_rate = limits["watch_limit_events"] / limits["watch_limit_seconds"]
    dict_rate = limits["watch_limit_events"] / limits["dict_watch_seconds"]
    cpu_rate = collector["watch_events"] / collector["watch_cpu_seconds"]
    limit_cpu_rate = limits["watch_limit_events"] / limits["watch_limit_cpu_seconds"]
    return BenchmarkResult(
        3,
        "Watch throughput through HTTP (80 % MODIFIED, 10 % ADDED, 10 % DELETED)",
        figures=(
            Figure("events applied", collector["watch_events"], "events"),
            Figure("time", collector["watch_seconds"], "s"),
            Figure("events applied per second", rate, "events/s"),
            Figure("events applied per CPU second of the collector process", cpu_rate, "events/s"),
            Figure(
                "limit: in-process typed decode + apply of the same lines", limit_rate, "events/s"
            ),
            Figure("limit per CPU second", limit_cpu_rate, "events/s"),
            Figure("dict path: in-process json.loads + projection", dict_rate, "events/s"),
            Figure("pods held after the events", collector["pods_after_watch"], "pods"),
        ),
        checks=(
            at_least("events applied per second", rate, WATCH_TARGET, "events/s"),
            ratio("watch / in-process decode of the same lines", rate / limit_rate),
            ratio("per CPU second: watch / in-process decode", cpu_rate / limit_cpu_rate),
        ),
        notes=(
            "Each event is a whole pod (8-10 KB) in its own HTTP chunk, as the API server "
            "flushes them. The collector reads the stream in blocks of whatever has "
            "arrived (cluster/kubernetes/watch_lines.py), so a burst of events costs one "
            "read, one lock, one clock reading and one counter update; what remains per "
            "event is the typed decode, receiving and splitting the bytes, and the map.",
            "Both in-process decodes end with the same map "
            f"(equal: {bool(limits['watch_matches'])}).",
        ),
    )


def _sample(collector: dict[str, float]) -> BenchmarkResult:
    seconds = collector["sample_seconds"]
    floor = collector["sample_floor_seconds"]
    return BenchmarkResult(
        4,
        f"One sample (metering.measure) at {collector['pods']:,.0f} pods",
        figures=(
            Figure("measure(view, settings), median", seconds * 1000, "ms"),
            Figure("floor: a bare pass over the pods and containers", floor * 1000, "ms"),
            Figure(
                "products / bundled products / services in the sample",
                collector["sample_products"]
                + collector["sample_bundled_products"]
                + collector["sample_services"],
                "rows",
            ),
            Figure("pods with incomplete annotations", collector["sample_incomplete_pods"], "pods"),
        ),
        checks=(
            at_most("one sample", seconds * 1000, SAMPLE_TARGET_SECONDS * 1000, "ms"),
            ratio("sample / bare pass", seconds / floor if floor else 0.0),
        ),
    )
