"""The HTTP side of the fake: one handler per connection, HTTP/1.1 keep-alive.

Order of work for each request: read it whole, log it, apply arranged faults (delay, then
fail or drop), authenticate the caller, route it, answer. JSON answers carry a
Content-Length; watches are sent with chunked transfer encoding, one event per chunk, and
a dropped watch ends without the terminating chunk so the client sees a broken connection.
A watch fault (``faults.WatchFault``) spoils the stream itself: cut mid-event, ended by an
ERROR event, or left silent.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import discovery
from .faults import FaultPlan, WatchFault
from .request_log import RequestLog, RequestRecord
from .rest_verbs import JsonResponse, ResourceApi, StreamResponse
from .routing import DiscoveryRoute, ResourceRoute, parse_path
from .statuses import FAILURE_REASONS, ApiError, failure_status, internal_error, unauthorized
from .watching import WatchDropped, WatchRegistry, WatchSession, error_line

JsonObject = dict[str, Any]
_STALL_POLL_SECONDS = 0.05
ControlHandler = Callable[[str, str, Mapping[str, str], bytes], JsonObject | None]


@dataclass
class CallerAuthentication:
    """Which callers the fake accepts: anyone by default, or only a bearer token."""

    required_token: str | None = None
    require_any_token: bool = False

    def accepts(self, token: str | None) -> bool:
        """Whether a request with this bearer token (or none) is let in."""
        if self.required_token is not None:
            return token == self.required_token
        return token is not None or not self.require_any_token


@dataclass
class ServerParts:
    """Everything a handler needs, shared by all connections of one server."""

    api: ResourceApi
    faults: FaultPlan
    log: RequestLog
    watches: WatchRegistry
    authentication: CallerAuthentication
    control: ControlHandler | None = None
    stopping: threading.Event = field(default_factory=threading.Event)


class ApiHttpServer(ThreadingHTTPServer):
    """A threading HTTP server that can cut every open connection when stopped."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], parts: ServerParts) -> None:
        self.parts = parts
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, ApiRequestHandler)

    def track(self, connection: socket.socket) -> None:
        """Remember an open client connection."""
        with self._connections_lock:
            self._connections.add(connection)

    def forget(self, connection: socket.socket) -> None:
        """Forget a closed client connection."""
        with self._connections_lock:
            self._connections.discard(connection)

    def cut_connections(self) -> None:
        """Close every open client connection abruptly (the server is going away)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connections cut by a client or by a fault are normal here; stay quiet."""


class ApiRequestHandler(BaseHTTPRequestHandler):
    """Answers Kubernetes API requests from the shared ``ServerParts``."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle's algorithm the client's
    # delayed ACK would add 40 ms to every answer.
    disable_nagle_algorithm = True
    server: ApiHttpServer

    def setup(self) -> None:
        """Track the connection so a stop can cut it."""
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        """Forget the connection."""
        try:
            super().finish()
        finally:
            self.server.forget(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are in the request log; nothing goes to stderr."""

    def do_GET(self) -> None:
        """Serve a GET."""
        self._serve()

    def do_POST(self) -> None:
        """Serve a POST."""
        self._serve()

    def do_PUT(self) -> None:
        """Serve a PUT."""
        self._serve()

    def do_PATCH(self) -> None:
        """Serve a PATCH."""
        self._serve()

    def do_DELETE(self) -> None:
        """Serve a DELETE."""
        self._serve()

    # -- the request pipeline --------------------------------------------------------------

    def _serve(self) -> None:
        parts = self.server.parts
        url = urlsplit(self.path)
        path = url.path
        query = {
            key: values[-1] for key, values in parse_qs(url.query, keep_blank_values=True).items()
        }
        body = self._read_body()
        token = _bearer_token(self.headers.get("Authorization"))
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if path.startswith("/_fake/") and parts.control is not None:
            self._serve_control(parts.control, path, query, body)
            return
        parts.log.add(
            RequestRecord(
                method=self.command,
                path=path,
                query=query,
                content_type=content_type,
                accept=self.headers.get("Accept") or "",
                user_agent=self.headers.get("User-Agent") or "",
                bearer_token=token,
            )
        )
        is_watch = query.get("watch") in ("true", "1") or "/watch/" in path
        decision = parts.faults.decide(
            self.command, path, is_watch=is_watch, user_agent=self.headers.get("User-Agent") or ""
        )
        if decision.cut_off:
            self._cut()
            return
        if decision.delay_seconds and parts.stopping.wait(decision.delay_seconds):
            self._cut()
            return
        if decision.fail_status is not None:
            error = ApiError(
                decision.fail_status,
                FAILURE_REASONS.get(decision.fail_status, "InternalError"),
                f"injected failure {decision.fail_status} for {self.command} {path}",
            )
            self._send_json(error.code, error.status())
            return
        if not parts.authentication.accepts(token):
            self._send_json(401, unauthorized().status())
            return
        try:
            answer = self._answer(path, query, body, content_type)
        except ApiError as error:
            answer = JsonResponse(error.code, error.status())
        except Exception as error:
            answer = JsonResponse(500, internal_error(f"fake API server bug: {error!r}").status())
        if isinstance(answer, StreamResponse):
            self._stream(answer, drop=decision.drop, fault=decision.watch_fault)
        elif decision.drop:
            self._send_json_then_drop(answer.status, answer.body)
        else:
            self._send_json(answer.status, answer.body)

    def _answer(
        self, path: str, query: Mapping[str, str], body: bytes, content_type: str
    ) -> JsonResponse | StreamResponse:
        if path in ("/healthz", "/livez", "/readyz"):
            return JsonResponse(200, {"status": "ok"})
        route = parse_path(path)
        if route is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if isinstance(route, DiscoveryRoute):
            if self.command != "GET":
                raise ApiError(
                    405, "MethodNotAllowed", f"the server does not allow {self.command} here"
                )
            return JsonResponse(200, self._discovery(route))
        assert isinstance(route, ResourceRoute)
        return self.server.parts.api.handle(
            self.command, route, query, body=body, content_type=content_type
        )

    def _discovery(self, route: DiscoveryRoute) -> JsonObject:
        host, port = str(self.server.server_address[0]), self.server.server_address[1]
        if route.document == "version":
            return dict(discovery.SERVER_VERSION)
        if route.document == "core":
            return discovery.core_versions(f"{host}:{port}")
        if route.document == "groups":
            return discovery.group_list()
        if route.document == "group":
            return discovery.group_document(route.group)
        resources = discovery.resource_list(route.group, route.version)
        if resources is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return resources

    def _serve_control(
        self, control: ControlHandler, path: str, query: Mapping[str, str], body: bytes
    ) -> None:
        try:
            result = control(self.command, path, query, body)
        except (ValueError, KeyError, TypeError) as error:
            self._send_json(400, failure_status(code=400, reason="BadRequest", message=str(error)))
            return
        if result is None:
            self._send_json(404, failure_status(code=404, reason="NotFound", message=path))
        else:
            self._send_json(200, result)

    # -- writing ---------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_json(self, status: int, body: JsonObject) -> None:
        payload = json.dumps(body).encode("utf-8")
        self._send_headers(status, {"Content-Length": str(len(payload))})
        self.wfile.write(payload)

    def _send_json_then_drop(self, status: int, body: JsonObject) -> None:
        payload = json.dumps(body).encode("utf-8")
        self._send_headers(status, {"Content-Length": str(len(payload))})
        self.wfile.write(payload[: len(payload) // 2])
        self._cut()

    def _send_headers(self, status: int, extra: Mapping[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-cache, private")
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()

    def _stream(self, answer: StreamResponse, *, drop: bool, fault: WatchFault | None) -> None:
        parts = self.server.parts
        parts.watches.add(answer.session)
        try:
            self._send_headers(200, {"Transfer-Encoding": "chunked"})
            if drop:
                self._cut()
                return
            if fault is not None and fault.kind == "stall":
                self._stall(answer.session, fault.seconds)
                return
            if fault is not None and fault.kind == "error_event" and fault.after_events == 0:
                self._end_with_error(fault.status)
                return
            events = 0
            for line in answer.lines:
                if _is_bookmark(line):
                    self._write_chunk(line)
                    continue
                if answer.session.cut_next_event:
                    self._write_chunk(line[: len(line) // 2])
                    self._cut()
                    return
                if fault is None:
                    self._write_chunk(line)
                    continue
                if fault.kind == "cut_event" and events == fault.after_events:
                    self._write_chunk(line[: len(line) // 2])
                    if fault.clean_end:
                        self.wfile.write(b"0\r\n\r\n")
                    else:
                        self._cut()
                    return
                self._write_chunk(line)
                events += 1
                if fault.kind == "error_event" and events == fault.after_events:
                    self._end_with_error(fault.status)
                    return
            self.wfile.write(b"0\r\n\r\n")
        except WatchDropped:
            self._cut()
        except OSError:
            # The client went away; nothing left to tell it.
            self.close_connection = True
        finally:
            parts.watches.remove(answer.session)

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _end_with_error(self, code: int) -> None:
        """An ERROR event with a Status, then the end of the stream, as upstream does."""
        self._write_chunk(error_line(code))
        self.wfile.write(b"0\r\n\r\n")

    def _stall(self, session: WatchSession, seconds: float) -> None:
        """Say nothing for ``seconds`` (until a stop or a drop), then close abruptly."""
        self.wfile.flush()
        deadline = time.monotonic() + seconds
        stopping = self.server.parts.stopping
        while not (session.dropped or session.stopped):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or stopping.wait(min(remaining, _STALL_POLL_SECONDS)):
                break
        self._cut()

    def _cut(self) -> None:
        """Close the connection abruptly, mid-response."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _is_bookmark(line: bytes) -> bool:
    return line.startswith(b'{"type":"BOOKMARK"')


def _bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
