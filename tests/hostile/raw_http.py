"""Requests no well-behaved client sends (httpx refuses URLs over 64 KiB), over a bare socket."""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class RawAnswer:
    """What the server sent back: the status and the raw head and body."""

    status: int
    head: str
    body: bytes


def raw_get(
    port: int, target: str, *, headers: dict[str, str] | None = None, timeout: float = 10
) -> RawAnswer:
    """Send ``GET target`` with ``headers`` to 127.0.0.1:``port``; read until the server closes.

    The server may answer and close before it has read all of an oversized request, so a
    reset while sending is not an error: the answer is read all the same.
    """
    lines = [f"GET {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.sendall(request)
        received = bytearray()
        while True:
            try:
                chunk = connection.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    assert status_line.startswith("HTTP/1.1 "), f"no HTTP answer: {bytes(received[:200])!r}"
    return RawAnswer(status=int(status_line.split()[1]), head=head.decode("latin-1"), body=body)
