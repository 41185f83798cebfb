"""What the sender makes of a Reporter's answers (a real HTTP server answering raw bytes): a
200 it cannot read is retried, a refusal's message is kept on one printable line, and the
request carries the Bearer token, the JSON content type and the body unchanged."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from license_service.reporting.reporter_client import ReporterConnection, send_push


@contextmanager
def answering(status: int, body: bytes, seen: list[dict[str, Any]]) -> Iterator[str]:
    """A server at the yielded URL answering every request with ``status`` and ``body``."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            seen.append(
                {"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)}
            )
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/base/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_request_is_a_post_to_v1_push_with_the_bearer_token_and_the_body() -> None:
    seen: list[dict[str, Any]] = []
    answer_body = b'{"clusterId": "c", "acknowledgedThrough": "2026-12-05", "accepted": 3}'
    with answering(200, answer_body, seen) as url:
        answer = send_push(ReporterConnection(url, "tok-123", None, timeout=5), b'{"x":1}')
    assert answer.succeeded
    assert answer.acknowledged_through == date(2026, 12, 5)
    assert answer.accepted == 3
    [request] = seen
    assert request["path"] == "/base/v1/push"
    assert request["headers"]["Authorization"] == "Bearer tok-123"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["body"] == b'{"x":1}'


def test_acknowledged_through_null_is_a_success_acknowledging_nothing() -> None:
    answer_body = b'{"clusterId": "c", "acknowledgedThrough": null, "accepted": 1}'
    with answering(200, answer_body, []) as url:
        answer = send_push(ReporterConnection(url, "t", None, timeout=5), b"{}")
    assert answer.succeeded
    assert answer.acknowledged_through is None
    assert answer.accepted == 1


@pytest.mark.parametrize(
    "answer_body",
    [
        b'{"clusterId": "c", "accepted": 1}',
        b'{"clusterId": "c", "acknowledgedThrough": "", "accepted": 1}',
        b'{"clusterId": "c", "acknowledgedThrough": 20261205, "accepted": 1}',
        b'{"clusterId": "c", "acknowledgedThrough": "2026-12-05", "accepted": "many"}',
    ],
)
def test_a_200_without_a_readable_acknowledgement_is_retried(answer_body: bytes) -> None:
    with answering(200, answer_body, []) as url:
        answer = send_push(ReporterConnection(url, "t", None, timeout=5), b"{}")
    assert not answer.succeeded
    assert answer.retryable
    assert "not understood" in answer.message


def test_a_200_that_cannot_be_read_is_retried() -> None:
    with answering(200, b"<html>proxy</html>", []) as url:
        answer = send_push(ReporterConnection(url, "t", None, timeout=5), b"{}")
    assert not answer.succeeded
    assert answer.retryable
    assert "not understood" in answer.message


def test_a_refusal_message_is_one_printable_line() -> None:
    refusal = b'{"status": 400, "message": "bad\\nrow\\u001b[31m in days[0]"}'
    with answering(400, refusal, []) as url:
        answer = send_push(ReporterConnection(url, "t", None, timeout=5), b"{}")
    assert answer.status == 400
    assert not answer.retryable
    assert answer.message.isprintable()
    assert "in days[0]" in answer.message


def test_a_server_error_without_json_is_retryable_with_its_text() -> None:
    with answering(502, b"Bad Gateway", []) as url:
        answer = send_push(ReporterConnection(url, "t", None, timeout=5), b"{}")
    assert answer.retryable
    assert answer.message == "the Reporter answered 502: Bad Gateway"
