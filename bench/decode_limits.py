"""The limits and baselines of the cluster benchmarks, on the very bytes the collector read.

Run by ``cluster_benchmarks`` as ``python -m bench.decode_limits --url URL
--model-pods M``: it first downloads every list page and the watch lines from the
list server (not timed), then times, in this one process:

- the projection limit: the collector's own decoder (``cluster.decoding``: a
  schema of the projection's fields) of each page of pods, nodes and namespaces,
  straight from the bytes, kept in a map as the collector keeps them;
- the dict path: ``json.loads`` of each page and the reference translation
  (``bench.reference_translation``, once the service's decoder) of each item, and
  whether both build equal projections;
- the client-model baseline: ``ApiClient().deserialize`` of the first M pods' pages
  into ``V1PodList`` (what the official client does for every list), kept alive;
- the watch limit: the typed decode of each event line, applied to the map of every
  pod (a DELETED one removes its key), as the collector does, with the whole cluster
  held (the garbage collector's work grows with it); and the same with ``json.loads``
  and the reference translation.

It prints one JSON line with the seconds (wall and, for the limits and the baseline,
CPU time of this process) and counts.
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

from bench.measurements import emit
from bench.reference_translation import pod_from_json
from license_service.cluster.decoding import (
    ProjectionDecoder,
    namespace_decoder,
    node_decoder,
    pod_decoder,
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


def _refused(key: object, error: Exception) -> None:
    raise RuntimeError(f"the decoder refused {key} of the generated cluster: {error}")


def decode_typed(
    pages: list[bytes],
    decoder: ProjectionDecoder[Pod] | ProjectionDecoder[Node] | ProjectionDecoder[Namespace],
) -> dict[tuple[str, str], object]:
    """Decode each page with the collector's decoder, keep the projections by key."""
    held: dict[tuple[str, str], object] = {}
    for page in pages:
        held.update(decoder.page(page).objects)
    return held


def decode_models(pages: list[bytes]) -> list[Any]:
    """Deserialize each page into the official client's ``V1PodList``, as its list call does."""
    api = client.ApiClient()
    return [
        api.deserialize(page.decode("utf-8"), "V1PodList", "application/json") for page in pages
    ]


def apply_typed_watch_lines(
    lines: list[bytes], held: dict[tuple[str, str], object], decoder: ProjectionDecoder[Pod]
) -> None:
    """Apply each event line to ``held`` as the collector does, with its decoder."""
    for line in lines:
        event = decoder.event(line)
        if event.key is not None:
            if event.object is None:
                held.pop(event.key, None)
            else:
                held[event.key] = event.object


def apply_watch_lines(lines: list[bytes], held: dict[tuple[str, str], object]) -> None:
    """Apply each event line to ``held`` the dict way: ``json.loads``, then the projection."""
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
    """Download, then time the in-process decodes; print the figures as JSON."""
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
    started, cpu_started = time.perf_counter(), time.process_time()
    pods = decode_typed(pod_pages, pod_decoder(on_refused=_refused))
    pods_done = time.perf_counter()
    nodes = decode_typed(node_pages, node_decoder(on_refused=_refused))
    namespaces = decode_typed(namespace_pages, namespace_decoder(on_refused=_refused))
    result.update(
        projection_seconds=time.perf_counter() - started,
        projection_cpu_seconds=time.process_time() - cpu_started,
        projection_other_seconds=time.perf_counter() - pods_done,
        projection_pods=len(pods),
        projection_nodes=len(nodes),
        projection_namespaces=len(namespaces),
        pod_bytes=sum(len(page) for page in pod_pages),
    )
    del nodes, namespaces
    gc.collect()
    started = time.perf_counter()
    dict_pods = decode_projections(pod_pages, pod_from_json)
    result["dict_pod_seconds"] = time.perf_counter() - started
    result["typed_matches"] = dict_pods == pods
    del dict_pods

    model_pages = pod_pages[: max(1, arguments.model_pods // PAGE_SIZE)]
    del pod_pages
    gc.collect()
    started, cpu_started = time.perf_counter(), time.process_time()
    models = decode_models(model_pages)
    result.update(
        model_seconds=time.perf_counter() - started,
        model_cpu_seconds=time.process_time() - cpu_started,
        model_pods=sum(len(page_list.items) for page_list in models),
    )
    del models
    gc.collect()

    dict_held = dict(pods)
    started, cpu_started = time.perf_counter(), time.process_time()
    apply_typed_watch_lines(lines, pods, pod_decoder(on_refused=_refused))
    result.update(
        watch_limit_seconds=time.perf_counter() - started,
        watch_limit_cpu_seconds=time.process_time() - cpu_started,
        watch_limit_events=len(lines),
        watch_limit_pods_after=len(pods),
    )
    started = time.perf_counter()
    apply_watch_lines(lines, dict_held)
    result["dict_watch_seconds"] = time.perf_counter() - started
    result["watch_matches"] = dict_held == pods
    emit(result)


if __name__ == "__main__":
    main()
