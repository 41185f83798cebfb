"""TLS handshakes that never complete, against a real ``serve`` and a real ``reporter`` over HTTPS.

asyncio gives a TLS handshake 60 s by default, and the connection is the HTTP
protocol's (counted, timed) only once the handshake is done: a client that opened TCP
and sent nothing, or half a ClientHello, held its connection for a minute, and many
such clients could starve the API. Now a handshake must complete within the head
timeout (``HEAD_TIMEOUT_SECONDS``), as a plain-HTTP request head must; meanwhile
the API answers as usual. The Reporter, which faces many clusters and people, is
guarded like ``serve``: a plain connection that sends nothing is closed as fast.
"""

from __future__ import annotations

import selectors
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from license_service.runtime.connection_limits import HEAD_TIMEOUT_SECONDS
from tests.e2e.certificates import self_signed_certificate
from tests.e2e.processes import ServiceProcess, start_service
from tests.e2e.reporter_process import start_reporter, token_of

STALLED = 40
"""Connections that never finish their handshake, opened at once."""
MARGIN = 3.0
"""Time allowed past the head timeout, on a loaded 2-core machine."""
# A TLS record header announcing a 512-byte handshake message, then the first bytes of
# a ClientHello: the server waits for the rest, which never comes.
PARTIAL_CLIENT_HELLO = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 8


@dataclass(frozen=True)
class TlsServer:
    """A running HTTPS server, a context trusting it and an authenticated URL to ask."""

    process: ServiceProcess
    trusted: ssl.SSLContext
    protected_url: str


def _serve(directory: Path, cert: Path, key: Path, trusted: ssl.SSLContext) -> TlsServer:
    process = start_service(
        directory,
        extra=["--tls-cert", str(cert), "--tls-key", str(key)],
        scheme="https",
        verify=trusted,
    )
    return TlsServer(process, trusted, f"{process.url}/products?token={process.token}")


def _reporter(directory: Path, cert: Path, key: Path, trusted: ssl.SSLContext) -> TlsServer:
    process = start_reporter(
        directory,
        f"sqlite:///{directory / 'fleet.db'}",
        extra=("--tls-cert", str(cert), "--tls-key", str(key)),
        scheme="https",
        verify=trusted,
    )
    return TlsServer(process, trusted, f"{process.url}/clusters?token={token_of(process)}")


STARTERS: dict[str, Callable[[Path, Path, Path, ssl.SSLContext], TlsServer]] = {
    "serve": _serve,
    "reporter": _reporter,
}


@pytest.fixture(scope="module", params=sorted(STARTERS))
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TlsServer]:
    directory = tmp_path_factory.mktemp(f"tls-{request.param}")
    cert, key = self_signed_certificate(directory)
    trusted = ssl.create_default_context(cafile=str(cert))
    started = STARTERS[request.param](directory, cert, key, trusted)
    try:
        yield started
    finally:
        started.process.stop()


def _closed_by_server(connection: socket.socket) -> bool:
    """Whether the server closed ``connection`` (end of stream or reset); it sends no data."""
    try:
        return connection.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def test_tls_handshakes_that_never_complete_are_closed_within_the_head_timeout(
    server: TlsServer,
) -> None:
    port = server.process.port
    selector = selectors.DefaultSelector()
    opened_at: dict[socket.socket, float] = {}
    for index in range(STALLED):
        connection = socket.create_connection(("127.0.0.1", port), timeout=5)
        if index % 2:
            connection.sendall(PARTIAL_CLIENT_HELLO)
        connection.setblocking(False)
        selector.register(connection, selectors.EVENT_READ)
        opened_at[connection] = time.monotonic()
    held: dict[socket.socket, float] = {}
    answers: list[int | str] = []
    deadline = time.monotonic() + HEAD_TIMEOUT_SECONDS + MARGIN
    try:
        while opened_at.keys() - held.keys() and time.monotonic() < deadline:
            # The API keeps answering while the stalled handshakes hold their connections.
            try:
                answers.append(
                    httpx.get(server.protected_url, verify=server.trusted, timeout=5).status_code
                )
            except httpx.TransportError as exc:
                answers.append(type(exc).__name__)
            for key, _ in selector.select(timeout=0.5):
                connection = key.fileobj
                assert isinstance(connection, socket.socket)
                if _closed_by_server(connection):
                    held[connection] = time.monotonic() - opened_at[connection]
                    selector.unregister(connection)
        still_open = len(opened_at) - len(held)
    finally:
        selector.close()
        for connection in opened_at:
            connection.close()

    assert still_open == 0, (
        f"{still_open} of {STALLED} connections whose TLS handshake never completed were "
        f"still open {HEAD_TIMEOUT_SECONDS + MARGIN:g} s after they opened"
    )
    assert min(held.values()) >= HEAD_TIMEOUT_SECONDS - 0.5, "closed before the head timeout"
    assert answers
    assert set(answers) == {200}, answers
    assert "Traceback" not in server.process.log()


def test_the_reporter_closes_a_plain_connection_that_sends_no_request(tmp_path: Path) -> None:
    reporter = start_reporter(tmp_path, f"sqlite:///{tmp_path / 'fleet.db'}")
    try:
        with socket.create_connection(("127.0.0.1", reporter.port), timeout=5) as connection:
            started = time.monotonic()
            connection.settimeout(HEAD_TIMEOUT_SECONDS + MARGIN)
            try:
                closed = connection.recv(4096) == b""
            except TimeoutError:
                closed = False
            except OSError:
                closed = True
            held = time.monotonic() - started
    finally:
        reporter.stop()

    assert closed, f"the Reporter kept an idle connection open over {held:.1f} s"
    assert HEAD_TIMEOUT_SECONDS - 0.5 <= held <= HEAD_TIMEOUT_SECONDS + MARGIN
