"""A tiny Reporter for the sender's tests: a real HTTP server in a thread that checks each push
with the Reporter's own ``fleet.push_format.decode_push`` (envelope, base64, signature by the
public key, payload fields, consecutive days, each row), keeps the days it got, and answers as
scripted (200, 400, 409, 500)."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from license_service.errors import RequestError
from license_service.fleet.push_format import ClusterIdentity, PushDay, decode_push

TOKEN = "reporter-token-0123456789abcdef"


@dataclass
class Push:
    """One push the fake Reporter received and how it answered."""

    status: int
    dates: list[str]
    complete: list[bool]
    cluster: ClusterIdentity | None
    problem: str | None = None
    key_fingerprint: str | None = None


@dataclass
class FakeReporter:
    """The receiving side; ``answers`` are given to the next pushes in order, then 200."""

    url: str = ""
    answers: list[int] = field(default_factory=list)
    pushes: list[Push] = field(default_factory=list)
    days: dict[str, PushDay] = field(default_factory=dict)
    """The days received, by ISO date, as the Reporter decodes them."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    on_push: Callable[[], object] | None = None
    """Called while a push is being answered (the sender is waiting for the answer)."""
    echo_authorization: bool = False
    """Put the request's Authorization header in refusals (a careless Reporter or proxy)."""

    def acknowledged_through(self) -> str | None:
        """The last complete day with no day missing since the first one received (``None``,
        answered as ``null``, while there is none, as the Reporter does)."""
        if not self.days:
            return None
        day = min(held.date for held in self.days.values())
        through = None
        while day.isoformat() in self.days and self.days[day.isoformat()].complete:
            through = day.isoformat()
            day += timedelta(days=1)
        return through

    def receive(self, authorization: str | None, body: bytes) -> tuple[int, dict[str, Any]]:
        """Check and store one push; the status and the JSON answer."""
        if authorization != f"Bearer {TOKEN}":
            return 401, {"status": 401, "error": "Unauthorized", "message": "token"}
        try:
            received = decode_push(body)
        except RequestError as problem:
            self.pushes.append(Push(400, [], [], None, str(problem)))
            return 400, {"status": 400, "error": "Bad Request", "message": str(problem)}
        dates = [day.date.isoformat() for day in received.days]
        complete = [day.complete for day in received.days]
        if self.on_push is not None:
            self.on_push()
        scripted = self.answers.pop(0) if self.answers else 200
        self.pushes.append(
            Push(scripted, dates, complete, received.cluster, None, received.fingerprint)
        )
        if scripted != 200:
            message = {400: "days[0].products: bad row", 409: "another key"}.get(scripted, "down")
            if self.echo_authorization:
                message += f" (request had Authorization: {authorization})"
            return scripted, {"status": scripted, "error": "refused", "message": message}
        for day in received.days:
            self.days[day.date.isoformat()] = day
        return 200, {
            "clusterId": received.cluster.cluster_id,
            "acknowledgedThrough": self.acknowledged_through(),
            "accepted": len(dates),
        }


@contextmanager
def running_reporter(tls: tuple[Path, Path] | None = None) -> Iterator[FakeReporter]:
    """A ``FakeReporter`` listening on a free port of 127.0.0.1 until the block ends;
    over HTTPS with ``tls`` (certificate and key files)."""
    reporter = FakeReporter()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if self.path != "/v1/push":
                status, answer = 404, {"status": 404}
            else:
                with reporter.lock:
                    status, answer = reporter.receive(self.headers.get("Authorization"), body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    scheme = "http"
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    reporter.url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield reporter
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
