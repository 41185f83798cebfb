"""A minimal Kubernetes list/watch server for benchmarks: pre-rendered pages from memory.

Run as its own process (``python -m bench.list_server --pods N --nodes M``) so the
benchmarked client has its own interpreter and core: serving must not be what is
measured. At start it renders the cluster of ``bench.cluster_generator`` into list
pages (``limit`` = ``--page-size``, chained by ``continue`` tokens) and the pod watch
stream (``--watch-events`` events, one HTTP chunk per event, as the API server
flushes them), prints ``listening on http://127.0.0.1:PORT`` and serves:

- ``GET /api/v1/{pods,nodes,namespaces}?limit=L[&continue=page-N]``: one page;
- the same with ``watch=true``: for pods, the first watch from the list's
  resourceVersion waits for ``/_bench/release-watch``, then sends every event and
  ends; any other watch stays open, silent, until ``timeoutSeconds``;
- ``GET /_bench/release-watch``: let the held pod watch go;
- ``GET /_bench/watch-lines``: the watch events as plain lines (for in-process limits);
- ``GET /_bench/stats``: how many pods, nodes, namespaces, events and bytes it serves.

It knows nothing else of the API: it is a stand-in for an API server that is never
the bottleneck, not a fake to test behaviour against (``tests/kubernetes_fake`` is).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import IO, Final
from urllib.parse import parse_qs, urlsplit

from bench.cluster_generator import (
    ClusterShape,
    GeneratedCluster,
    generate_cluster,
    list_pages,
    watch_events,
)
from bench.measurements import ROOT

LIST_VERSION: Final = 1_000_000
_KINDS: Final = {"pods": "Pod", "nodes": "Node", "namespaces": "Namespace"}


class ServedCluster:
    """The pages and the watch stream, rendered once."""

    def __init__(
        self, cluster: GeneratedCluster, *, page_size: int, watch_event_count: int
    ) -> None:
        self.page_size = page_size
        version = str(LIST_VERSION)
        self.pages = {
            "pods": list_pages(
                "Pod", cluster.pod_items(), page_size=page_size, resource_version=version
            ),
            "nodes": list_pages(
                "Node", cluster.node_items(), page_size=page_size, resource_version=version
            ),
            "namespaces": list_pages(
                "Namespace",
                cluster.namespace_items(),
                page_size=page_size,
                resource_version=version,
            ),
        }
        self.watch_lines = watch_events(
            cluster, count=watch_event_count, first_version=LIST_VERSION + 1
        )
        self.watch_body = b"".join(
            f"{len(line):x}\r\n".encode() + line + b"\r\n" for line in self.watch_lines
        )
        self.stats = {
            "pods": cluster.shape.pods,
            "nodes": cluster.shape.nodes,
            "namespaces": len(cluster.namespace_names),
            "watch_events": len(self.watch_lines),
            "pod_bytes": sum(len(page) for page in self.pages["pods"]),
            "watch_bytes": sum(len(line) for line in self.watch_lines),
            "page_size": page_size,
        }
        self.release = threading.Event()
        self.stream_lock = threading.Lock()
        self.streamed = False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    served: ServedCluster

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: a log line per page would cost more than serving it."""

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        path = parts.path
        if path == "/_bench/release-watch":
            self.served.release.set()
            self._send(200, b"released\n", "text/plain")
        elif path == "/_bench/watch-lines":
            self._send(200, b"".join(self.served.watch_lines), "application/json")
        elif path == "/_bench/stats":
            self._send(200, json.dumps(self.served.stats).encode(), "application/json")
        elif path.startswith("/api/v1/") and path[len("/api/v1/") :] in _KINDS:
            resource = path[len("/api/v1/") :]
            if query.get("watch", "").lower() in ("true", "1"):
                self._watch(resource, query)
            else:
                self._list(resource, query)
        else:
            self._send(404, b'{"kind":"Status","code":404}', "application/json")

    def _list(self, resource: str, query: dict[str, str]) -> None:
        limit = int(query.get("limit", "0") or 0)
        if limit != self.served.page_size:
            message = (
                f"this bench server serves pages of {self.served.page_size}, not limit={limit}"
            )
            self._send(
                400,
                json.dumps({"kind": "Status", "code": 400, "message": message}).encode(),
                "application/json",
            )
            return
        token = query.get("continue", "")
        number = int(token.removeprefix("page-")) if token else 0
        self._send(200, self.served.pages[resource][number], "application/json")

    def _watch(self, resource: str, query: dict[str, str]) -> None:
        timeout = float(query.get("timeoutSeconds", "1800"))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        stream = False
        if resource == "pods" and query.get("resourceVersion") == str(LIST_VERSION):
            with self.served.stream_lock:
                stream = not self.served.streamed
                self.served.streamed = True
        try:
            if stream:
                self.served.release.wait(timeout)
                self.wfile.write(self.served.watch_body)
            else:
                threading.Event().wait(timeout)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(served: ServedCluster, *, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A started server (in a daemon thread) for ``served``."""
    handler = type("Handler", (_Handler,), {"served": served})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class ListServerProcess:
    """``python -m bench.list_server`` as a child process: ``with ListServerProcess(...) as s``.

    Entering waits until the cluster is rendered and the server listens (``url``);
    leaving closes its standard input, which ends it (killed if it lingers).
    """

    def __init__(self, *, pods: int, nodes: int, watch_events: int, seed: int = 1) -> None:
        self._arguments = [
            f"--pods={pods}",
            f"--nodes={nodes}",
            f"--watch-events={watch_events}",
            f"--seed={seed}",
        ]
        self._process: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> ListServerProcess:
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "bench.list_server", *self._arguments],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        stdout: IO[str] | None = self._process.stdout
        line = stdout.readline() if stdout is not None else ""
        if not line.startswith("listening on "):
            self._stop()
            raise RuntimeError(f"the bench list server did not start (it printed {line!r})")
        self.url = line.removeprefix("listening on ").strip()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        process = self._process
        if process is None:
            return
        self._process = None
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def main(argv: list[str] | None = None) -> None:
    """Render the cluster, listen, print the URL, serve until killed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, required=True)
    parser.add_argument("--nodes", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--watch-events", type=int, default=0)
    parser.add_argument("--port", type=int, default=0)
    arguments = parser.parse_args(argv)
    cluster = generate_cluster(
        ClusterShape(pods=arguments.pods, nodes=arguments.nodes, seed=arguments.seed)
    )
    served = ServedCluster(
        cluster, page_size=arguments.page_size, watch_event_count=arguments.watch_events
    )
    del cluster
    server = serve(served, port=arguments.port)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    # Serve until the parent closes our standard input (or kills us).
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
