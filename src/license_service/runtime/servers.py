"""The HTTP servers of the service: uvicorn, configured once, sharing one asyncio loop.

Two servers (API and metrics) run in one process, so signals are the service's
business, not uvicorn's: ``EmbeddedServer`` does not install handlers (uvicorn's
would keep only the last server's and re-raise the signal after shutdown).
Access logging is off (the web layer logs requests with ``token=***``), uvicorn
configures no logging of its own, proxy headers are not trusted (the client
address feeds the failed-attempt limiter), and TLS files are loaded up front so a
bad certificate stops the start with a clear message. With a ``ConnectionGuard`` the
server speaks through its ``GuardedH11Protocol`` (``guarded_connections``). Both the
service and the Reporter run their servers on a ``HandshakeBoundedLoop``
(``tls_handshakes``): a TLS handshake must complete within the head timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Iterator
from types import FrameType
from typing import Final

import uvicorn
from starlette.types import ASGIApp

from license_service.runtime.connection_limits import ACCEPT_BACKLOG
from license_service.runtime.guarded_connections import ConnectionGuard
from license_service.runtime.resource_shortage import ResourceShortage
from license_service.runtime.tls_handshakes import new_event_loop
from license_service.tls.file_store import TlsFiles, unusable_tls_files

GRACEFUL_SHUTDOWN_SECONDS: Final = 10


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves SIGINT and SIGTERM to the service that runs it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Install nothing: the service sets ``should_exit`` when it stops."""
        yield


class StandaloneServer(uvicorn.Server):
    """A uvicorn server that runs a whole process (the Reporter): SIGINT or SIGTERM stop it
    gracefully, a second one at once, and ``run`` returns, so the process exits 0 rather
    than being ended by the signal re-raised after shutdown. It runs on a
    ``HandshakeBoundedLoop`` (a TLS handshake bounded by the head timeout) and, given
    the ``ResourceShortage`` of its ``ConnectionGuard``, reports descriptor shortages once
    per streak, as ``serve`` does."""

    def __init__(self, config: uvicorn.Config, *, shortage: ResourceShortage | None = None) -> None:
        super().__init__(config)
        self.shortage = shortage

    def run(self, sockets: list[socket.socket] | None = None) -> None:
        """Serve until stopped, on a loop that bounds TLS handshakes by the head timeout."""
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            runner.run(self.serve(sockets=sockets))

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        """Serve, the loop's accept failures for want of descriptors logged once per streak."""
        if self.shortage is None:
            await super().serve(sockets=sockets)
            return
        with self.shortage.handling(asyncio.get_running_loop()):
            await super().serve(sockets=sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """Stop gracefully; a second signal cuts the grace short. Nothing is re-raised."""
        del sig, frame
        if self.should_exit:
            self.force_exit = True
        self.should_exit = True


def build_server(
    app: ASGIApp, *, tls: TlsFiles | None = None, guard: ConnectionGuard | None = None
) -> EmbeddedServer:
    """A server for ``app`` (sockets are given to ``serve``); HTTPS when ``tls`` is given."""
    config = uvicorn.Config(
        app,
        access_log=False,
        log_config=None,
        proxy_headers=False,
        server_header=False,
        ws="none",
        lifespan="auto",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        ssl_certfile=str(tls.cert) if tls is not None else None,
        ssl_keyfile=str(tls.key) if tls is not None else None,
        http=guard.protocol() if guard is not None else "auto",
        backlog=ACCEPT_BACKLOG,
    )
    try:
        config.load()
    except (ssl.SSLError, OSError) as exc:
        if tls is None:  # only TLS files are read when loading the configuration
            raise
        raise unusable_tls_files(tls, exc) from exc
    return EmbeddedServer(config)
