"""The limits and baselines of the cluster benchmarks, on the very bytes the collector read.

Run by ``cluster_benchmarks`` as ``python -m bench.decode_limits --url URL
--model-pods M``: it first downloads every list page and the watch lines from the
list server (not timed), then times, in this one process:

- the projection limit: ``json.loads`` of each page and ``kubernetes_json`` of each
  item (pods, nodes, namespaces), kept in a map as the collector keeps them;
- the client-model baseline: ``ApiClient().deserialize`` of the first M pods' pages
  into ``V1PodList`` (what the official client does for every list), kept alive;
- the watch limit: ``json.loads`` of each event line and the projection of its pod
  applied to the map of every pod (a DELETED one removes its key), as the collector
  does, with the whole cluster held (the garbage collector's work grows with it);
- the pods again with the garbage collector paused (what its full collections cost);
- the same pages and lines decoded by a schema that names only the projection's
  fields (``bench.typed_decoding``): what a typed
  decoder would reach, and whether its projections equal ``kubernetes_json``'s.

It prints one JSON line with the seconds and counts.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any, Final

from kubernetes import client

from bench import typed_decoding
from bench.measurements import emit
from license_service.cluster.kubernetes_json import (
    namespace_from_json,
    node_from_json,
    pod_from_json,
)
from license_service.metering.cluster_view import Namespace, Node, Pod

PAGE_SIZE: Final = 500


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url) as answer:  # noqa: S310 - the local bench server
        body: bytes = answer.read()
    return body


def fetch_pages(url: str, resource: str) -> list[bytes]:
    """Every page of ``resource`` as the server sends it, following continue tokens."""
    pages = []
    token = ""
    while True:
        suffix = f"&continue={token}" if token else ""
        page = _get(f"{url}/api/v1/{resource}?limit={PAGE_SIZE}{suffix}")
        pages.append(page)
        token = json.loads(page)["metadata"].get("continue", "")
        if not token:
            return pages


def decode_projections(
    pages: list[bytes], decode: Callable[[object], Pod | Node | Namespace]
) -> dict[tuple[str, str], object]:
    """``json.loads`` each page, decode each item into its projection, keep them by key."""
    held: dict[tuple[str, str], object] = {}
    for page in pages:
        for item in json.loads(page)["items"]:
            projection = decode(item)
            key = (projection.namespace if isinstance(projection, Pod) else "", projection.name)
            held[key] = projection
    return held


def decode_models(pages: list[bytes]) -> list[Any]:
    """Deserialize each page into the official client's ``V1PodList``, as its list call does."""
    api = client.ApiClient()
    return [
        api.deserialize(page.decode("utf-8"), "V1PodList", "application/json") for page in pages
    ]


def apply_watch_lines(lines: list[bytes], held: dict[tuple[str, str], object]) -> None:
    """Apply each event line to ``held`` as the collector does: put the projection, or remove."""
    for line in lines:
        event = json.loads(line)
        obj = event["object"]
        metadata = obj["metadata"]
        if event["type"] == "DELETED":
            held.pop((metadata["namespace"], metadata["name"]), None)
        else:
            pod = pod_from_json(obj)
            held[(pod.namespace, pod.name)] = pod


def main(argv: list[str] | None = None) -> None:
    """Download, then time the three in-process decodes; print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--model-pods", type=int, required=True)
    arguments = parser.parse_args(argv)
    url = arguments.url
    pod_pages = fetch_pages(url, "pods")
    node_pages = fetch_pages(url, "nodes")
    namespace_pages = fetch_pages(url, "namespaces")
    lines = [line for line in _get(f"{url}/_bench/watch-lines").split(b"\n") if line]
    result: dict[str, Any] = {}

    gc.collect()
    started = time.perf_counter()
    pods = decode_projections(pod_pages, pod_from_json)
    pods_done = time.perf_counter()
    nodes = decode_projections(node_pages, node_from_json)
    namespaces = decode_projections(namespace_pages, namespace_from_json)
    result.update(
        projection_seconds=time.perf_counter() - started,
        projection_other_seconds=time.perf_counter() - pods_done,
        projection_pods=len(pods),
        projection_nodes=len(nodes),
        projection_namespaces=len(namespaces),
        pod_bytes=sum(len(page) for page in pod_pages),
    )
    gc.collect()
    gc.disable()
    started = time.perf_counter()
    decode_projections(pod_pages, pod_from_json)
    result["paused_gc_pod_seconds"] = time.perf_counter() - started
    gc.enable()
    gc.collect()
    started = time.perf_counter()
    typed = {
        (pod.namespace, pod.name): pod
        for page in pod_pages
        for pod in typed_decoding.pods_of_page(page)
    }
    result["typed_pod_seconds"] = time.perf_counter() - started
    result["typed_matches"] = typed == pods
    del typed, nodes, namespaces

    model_pages = pod_pages[: max(1, arguments.model_pods // PAGE_SIZE)]
    del pod_pages
    gc.collect()
    started = time.perf_counter()
    models = decode_models(model_pages)
    result.update(
        model_seconds=time.perf_counter() - started,
        model_pods=sum(len(page_list.items) for page_list in models),
    )
    del models
    gc.collect()

    started = time.perf_counter()
    apply_watch_lines(lines, pods)
    result.update(
        watch_limit_seconds=time.perf_counter() - started,
        watch_limit_events=len(lines),
        watch_limit_pods_after=len(pods),
    )
    started = time.perf_counter()
    for line in lines:
        event_type, pod = typed_decoding.event_of_line(line)
        if event_type == "DELETED":
            pods.pop((pod.namespace, pod.name), None)
        else:
            pods[(pod.namespace, pod.name)] = pod
    result["typed_watch_seconds"] = time.perf_counter() - started
    emit(result)


if __name__ == "__main__":
    main()
