"""The process that holds the cluster: the real ``KubernetesSource`` against the list server.

Run by ``cluster_benchmarks`` as ``python -m bench.collector_process --url URL
--watch-events N --sample-repeats R``, in a fresh interpreter so that its memory is
the collector's alone. In order, it measures:

1. the initial synchronisation: ``start()`` until ``current().synced`` (pods, nodes
   and namespaces listed through HTTP in pages of 500, as in production), in wall
   time and in CPU time of this process (what a busy shared machine distorts least);
2. its peak and current resident memory with every pod held (``VmHWM``, ``VmRSS``);
3. one sample: ``metering.measure`` of the synchronised view (median of R), next to
   a bare pass over the same pods and containers (the floor of any measurement);
4. watch throughput: the server is told to send the N pod events it holds, and the
   time until the collector has counted all of them is taken.

It prints one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import gc
import threading
import time
import urllib.request
from typing import Any, Final

from kubernetes import client

from bench.measurements import emit, median_seconds, peak_rss_mib, rss_mib
from license_service.cluster.kubernetes import KubernetesSource, WatchOptions
from license_service.metering.cluster_view import ClusterId, ClusterView
from license_service.metering.measuring import measure
from license_service.metering.settings import MeteringSettings

POLL_SECONDS: Final = 0.005
DEADLINE_SECONDS: Final = 600.0


def _wait_for(probe: Any, *, what: str) -> float:
    """Poll ``probe`` until it is true; return when (``perf_counter``)."""
    deadline = time.perf_counter() + DEADLINE_SECONDS
    pause = threading.Event()
    while not probe():
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{what} did not happen within {DEADLINE_SECONDS:.0f} s")
        pause.wait(POLL_SECONDS)
    return time.perf_counter()


def bare_pass(view: ClusterView) -> int:
    """Touch every running pod's annotations and containers: the floor of a measurement."""
    touched = 0
    for pod in view.pods:
        if pod.running and pod.annotations:
            for container in pod.containers:
                touched += container.cpu_limit is not None
    return touched


def _sample(view: ClusterView, *, repeats: int) -> dict[str, Any]:
    """One sample of ``view``: its time (median), the floor's, and what it found."""
    settings = MeteringSettings()
    measurement = measure(view, settings)
    return {
        "sample_seconds": median_seconds(lambda: measure(view, settings), repeats=repeats),
        "sample_floor_seconds": median_seconds(lambda: bare_pass(view), repeats=repeats),
        "sample_products": len(measurement.products),
        "sample_bundled_products": len(measurement.bundled_products),
        "sample_services": len(measurement.services),
        "sample_incomplete_pods": len(measurement.incomplete_annotations),
    }


def _pod_events(source: KubernetesSource) -> int:
    events = source.counters.snapshot().events
    return sum(count for (resource, _), count in events.items() if resource == "pods")


def main(argv: list[str] | None = None) -> None:
    """Synchronise, measure memory, sample, watch; print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--watch-events", type=int, required=True)
    parser.add_argument("--sample-repeats", type=int, default=5)
    arguments = parser.parse_args(argv)
    result: dict[str, Any] = {"rss_at_start_mib": rss_mib()}

    api_client = client.ApiClient(client.Configuration(host=arguments.url))
    source = KubernetesSource(
        api_client, cluster_id=ClusterId("bench"), options=WatchOptions(page_size=500)
    )
    started = time.perf_counter()
    cpu_started = time.process_time()
    source.start()
    synced_at = _wait_for(lambda: source.current().synced, what="the initial synchronisation")
    counts = source.object_counts()
    result.update(
        sync_seconds=synced_at - started,
        sync_cpu_seconds=time.process_time() - cpu_started,
        pods=counts["pods"],
        nodes=counts["nodes"],
        namespaces=counts["namespaces"],
        peak_rss_after_sync_mib=peak_rss_mib(),
        rss_after_sync_mib=rss_mib(),
    )
    gc.collect()
    result["rss_after_sync_gc_mib"] = rss_mib()

    result.update(_sample(source.current().view, repeats=arguments.sample_repeats))

    before = _pod_events(source)
    expected = before + arguments.watch_events
    released = time.perf_counter()
    cpu_released = time.process_time()
    with urllib.request.urlopen(f"{arguments.url}/_bench/release-watch") as answer:  # noqa: S310
        answer.read()
    done = _wait_for(lambda: _pod_events(source) >= expected, what="the watch events")
    result.update(
        watch_events=_pod_events(source) - before,
        watch_seconds=done - released,
        watch_cpu_seconds=time.process_time() - cpu_released,
        pods_after_watch=source.object_counts()["pods"],
        peak_rss_end_mib=peak_rss_mib(),
        rss_end_mib=rss_mib(),
    )
    source.stop(timeout=2)
    emit(result)


if __name__ == "__main__":
    main()
