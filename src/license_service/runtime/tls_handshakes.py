"""An event loop on which a TLS handshake must complete within the head timeout.

A TLS server's connection reaches the HTTP protocol (where ``GuardedH11Protocol``
counts it and gives it ``head_timeout`` to send a request head) only once its TLS
handshake is done. Until then asyncio holds it, for ``ssl_handshake_timeout``: 60 s
unless ``create_server`` is given another. Uvicorn gives none and has no setting for
it, so a client that opened TCP and sent nothing, or half a ClientHello, held a
connection (and a file descriptor) for a minute, and many such clients could starve
the API. ``HandshakeBoundedLoop`` is asyncio's own loop whose ``create_server``
bounds a TLS handshake by ``HEAD_TIMEOUT_SECONDS`` when no bound is given: the
smallest change that needs nothing of uvicorn's internals (it calls ``create_server``
with ``ssl=``), holds for every server the process starts on the loop, and leaves a
handshake all the time a real client needs (milliseconds). A handshake that is
late is aborted by asyncio; it is not counted by the guard (it never reached it).
"""

from __future__ import annotations

import asyncio
from typing import Any

from license_service.runtime.connection_limits import HEAD_TIMEOUT_SECONDS


class HandshakeBoundedLoop(asyncio.SelectorEventLoop):
    """asyncio's event loop; a TLS server created on it without ``ssl_handshake_timeout``
    gets ``HEAD_TIMEOUT_SECONDS``."""

    async def create_server(self, *args: Any, **kwargs: Any) -> asyncio.Server:
        """``loop.create_server``, the TLS handshake bounded by the head timeout by default."""
        if kwargs.get("ssl") is not None and kwargs.get("ssl_handshake_timeout") is None:
            kwargs["ssl_handshake_timeout"] = HEAD_TIMEOUT_SECONDS
        return await super().create_server(*args, **kwargs)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A ``HandshakeBoundedLoop``: the ``loop_factory`` of the service's and Reporter's runners."""
    return HandshakeBoundedLoop()
