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
from bench.results import BenchmarkResult, Check, Figure, at_least, at_most, ratio
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
    model_rate = limits["model_pods"] / limits["model_seconds"]
    megabytes = limits["pod_bytes"] / 1e6
    typed: list[Figure] = []
    typed_checks: list[Check] = []
    notes = [
        "The limit is json.loads itself: on this machine it decodes the realistic pod "
        f"JSON at about {megabytes / limits['projection_seconds']:.0f} MB/s including the "
        "projection (kubernetes_json is a small part of it). The collector adds HTTP "
        "reading, sharing of repeated values and the map; the list server runs in its own "
        "process and only copies bytes from memory.",
    ]
    paused_rate = limits["projection_pods"] / (
        limits["paused_gc_pod_seconds"] + limits["projection_other_seconds"]
    )
    typed.append(
        Figure("limit with the garbage collector paused (not a design)", paused_rate, "pods/s")
    )
    notes.append(
        "Python's cyclic garbage collector costs "
        f"{1 - projection_rate / paused_rate:.0%} of the in-process decode: each page's "
        "parsed document (hundreds of thousands of dicts and lists) survives long enough "
        "to be promoted, which triggers full collections that also walk every projection "
        "held. The collector pays the same."
    )
    if "typed_pod_seconds" in limits:
        typed_rate = limits["projection_pods"] / (
            limits["typed_pod_seconds"] + limits["projection_other_seconds"]
        )
        typed.append(
            Figure("schema decoder (msgspec Structs) of the same bytes", typed_rate, "pods/s")
        )
        typed_checks.append(ratio("schema decoder / client-model decode", typed_rate / model_rate))
        notes.append(
            "A decoder given a schema of the projection's fields (bench/typed_decoding.py, "
            f"msgspec) builds the same projections (equal: {limits['typed_matches']}) "
            f"{typed_rate / projection_rate:.0f}x faster than json.loads + kubernetes_json: "
            "the 25x target over client models needs such a decoder in "
            "cluster/kubernetes_json.py and the collector (not owned by this benchmark work)."
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
            Figure("limit: in-process json.loads + kubernetes_json", projection_rate, "pods/s"),
            Figure(
                f"baseline: client models (V1PodList, {limits['model_pods']:,.0f} pods)",
                model_rate,
                "pods/s",
            ),
            *typed,
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
            *typed_checks,
        ),
        notes=tuple(notes),
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
    typed: list[Figure] = []
    if "typed_watch_seconds" in limits:
        typed.append(
            Figure(
                "schema decoder (msgspec Structs) of the same lines",
                limits["watch_limit_events"] / limits["typed_watch_seconds"],
                "events/s",
            )
        )
    return BenchmarkResult(
        3,
        "Watch throughput through HTTP (80 % MODIFIED, 10 % ADDED, 10 % DELETED)",
        figures=(
            Figure("events applied", collector["watch_events"], "events"),
            Figure("time", collector["watch_seconds"], "s"),
            Figure("events applied per second", rate, "events/s"),
            Figure(
                "limit: in-process json.loads + projection of the same lines",
                limit_rate,
                "events/s",
            ),
            *typed,
            Figure("pods held after the events", collector["pods_after_watch"], "pods"),
        ),
        checks=(
            at_least("events applied per second", rate, WATCH_TARGET, "events/s"),
            ratio("watch / in-process decode of the same lines", rate / limit_rate),
        ),
        notes=(
            "Each event is a whole pod (8-10 KB) in its own HTTP chunk, as the API server "
            "flushes them; json.loads of the event is most of the cost, so the in-process "
            "limit bounds what any change to the application path can reach.",
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
