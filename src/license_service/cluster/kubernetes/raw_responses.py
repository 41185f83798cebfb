"""Reading the API server's raw answers: whole JSON documents, closing and interrupting.

The client is asked not to decode anything (``_preload_content=False``); these
functions take the urllib3 response. (Watch streams are read by ``watch_lines``.)

Guarantees: a list body is read completely and its connection goes back to the pool;
a response closed early releases its connection; ``interrupt`` makes a read blocked
in another thread return at once.
"""

from __future__ import annotations

import contextlib
import json
import socket
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
