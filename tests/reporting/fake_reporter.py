"""A tiny Reporter for the sender's tests: a real HTTP server in a thread that checks each push
against PUSH_FORMAT.md (token, envelope, base64, signature by the public key, payload fields,
consecutive days), keeps the days it got, and answers as scripted (200, 400, 409, 500)."""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from license_service.signing.keys import public_key_fingerprint

TOKEN = "reporter-token-0123456789abcdef"
DAY_FIELDS = ["date", "complete", "products", "bundledProducts", "services", "uploads", "coverage"]


@dataclass
class Push:
    """One push the fake Reporter received and how it answered."""

    status: int
    dates: list[str]
    complete: list[bool]
    cluster: dict[str, Any]
    problem: str | None = None
    key_fingerprint: str | None = None


@dataclass
class FakeReporter:
    """The receiving side; ``answers`` are given to the next pushes in order, then 200."""

    url: str = ""
    answers: list[int] = field(default_factory=list)
    pushes: list[Push] = field(default_factory=list)
    days: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    on_push: Callable[[], object] | None = None
    """Called while a push is being answered (the sender is waiting for the answer)."""
    echo_authorization: bool = False
    """Put the request's Authorization header in refusals (a careless Reporter or proxy)."""

    def acknowledged_through(self) -> str | None:
        """The last complete day with no day missing since the first one received."""
        if not self.days:
            return None
        day = date.fromisoformat(min(self.days))
        through = None
        while day.isoformat() in self.days and self.days[day.isoformat()]["complete"]:
            through = day.isoformat()
            day += timedelta(days=1)
        return through

    def receive(self, authorization: str | None, body: bytes) -> tuple[int, dict[str, Any]]:
        """Check and store one push; the status and the JSON answer."""
        if authorization != f"Bearer {TOKEN}":
            return 401, {"status": 401, "error": "Unauthorized", "message": "token"}
        try:
            payload, fingerprint = _checked(body)
        except ValueError as problem:
            self.pushes.append(Push(400, [], [], {}, str(problem)))
            return 400, {"status": 400, "error": "Bad Request", "message": str(problem)}
        dates = [d["date"] for d in payload["days"]]
        complete = [d["complete"] for d in payload["days"]]
        if self.on_push is not None:
            self.on_push()
        scripted = self.answers.pop(0) if self.answers else 200
        self.pushes.append(Push(scripted, dates, complete, payload["cluster"], None, fingerprint))
        if scripted != 200:
            message = {400: "days[0].products: bad row", 409: "another key"}.get(scripted, "down")
            if self.echo_authorization:
                message += f" (request had Authorization: {authorization})"
            return scripted, {"status": scripted, "error": "refused", "message": message}
        for day in payload["days"]:
            self.days[day["date"]] = day
        return 200, {
            "clusterId": payload["cluster"]["clusterId"],
            "acknowledgedThrough": self.acknowledged_through(),
            "accepted": len(dates),
        }


def _checked(body: bytes) -> tuple[dict[str, Any], str]:
    """The payload of a body that follows PUSH_FORMAT.md and the fingerprint of the key that
    signed it; ``ValueError`` saying what does not follow."""
    envelope = json.loads(body)
    if sorted(envelope) != ["formatVersion", "payload", "publicKey", "signature"]:
        raise ValueError(f"envelope fields {sorted(envelope)}")
    if envelope["formatVersion"] != 1:
        raise ValueError("formatVersion")
    try:
        payload_bytes = base64.b64decode(envelope["payload"], validate=True)
        signature = base64.b64decode(envelope["signature"], validate=True)
    except binascii.Error as error:
        raise ValueError(f"base64: {error}") from error
    key = serialization.load_pem_public_key(envelope["publicKey"].encode())
    assert isinstance(key, rsa.RSAPublicKey)
    try:
        key.verify(signature, payload_bytes, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as error:
        raise ValueError("signature does not match the payload") from error
    payload = json.loads(payload_bytes.decode("utf-8"))
    if list(payload) != ["formatVersion", "cluster", "sentAt", "days"]:
        raise ValueError(f"payload fields {list(payload)}")
    if sorted(payload["cluster"]) != ["clusterId", "clusterName", "serviceVersion"]:
        raise ValueError("cluster fields")
    days = payload["days"]
    for day in days:
        if list(day) != DAY_FIELDS:
            raise ValueError(f"day fields {list(day)}")
        if sorted(day["coverage"]) != ["samplesExpected", "samplesTaken"]:
            raise ValueError("coverage fields")
    dates = [date.fromisoformat(d["date"]) for d in days]
    if any(b != a + timedelta(days=1) for a, b in itertools.pairwise(dates)):
        raise ValueError("non-consecutive days")
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return payload, public_key_fingerprint(der)


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
