"""Reading the API server's raw answers: whole JSON documents and watch lines.

The client is asked not to decode anything (``_preload_content=False``); these
functions take the urllib3 response and give ``json.loads`` the bytes directly, so a
list page or a watch event is one ``json.loads`` away from the projection.

Guarantees: a list body is read completely and its connection goes back to the pool;
watch lines come in batches, one per chunk the server flushed (so the caller takes its
lock once per chunk, not per event), and a line split over chunks is joined without
quadratic copying; ``interrupt`` makes a read blocked in another thread return at once.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from urllib3.response import HTTPResponse


def read_document(response: HTTPResponse) -> object:
    """Read the whole body and decode it as JSON (``ValueError`` when it is not JSON)."""
    try:
        body = response.data
    finally:
        response.release_conn()
    return json.loads(body)


def line_batches(response: HTTPResponse) -> Iterator[list[bytes]]:
    """The non-empty lines of a watch stream, one list per chunk received.

    Ends when the server ends the stream; a connection cut mid-stream raises the
    urllib3 error (``ProtocolError``) or ``OSError``.
    """
    pending: list[bytes] = []
    for chunk in response.stream(amt=None, decode_content=True):
        if b"\n" not in chunk:
            if chunk:
                pending.append(chunk)
            continue
        if pending:
            pending.append(chunk)
            data = b"".join(pending)
            pending = []
        else:
            data = chunk
        *lines, rest = data.split(b"\n")
        if rest:
            pending.append(rest)
        batch = [line for line in lines if line.strip()]
        if batch:
            yield batch
    tail = b"".join(pending)
    if tail.strip():
        yield [tail]


def close_response(response: HTTPResponse) -> None:
    """Close a response that may not have been read to the end, releasing its connection."""
    try:
        response.close()
    finally:
        response.release_conn()


def interrupt(response: HTTPResponse) -> None:
    """Cut the response's connection so that a read blocked in another thread returns.

    Closing the file object from another thread does not wake a blocked ``recv``;
    shutting the socket down does.
    """
    connection = getattr(response, "connection", None) or getattr(response, "_connection", None)
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):  # already closed: nothing left to wake
            sock.shutdown(socket.SHUT_RDWR)
