"""One log line per API request: method, path, query (``token=***``), status, duration, client.

Uvicorn's own access log is turned off by the runtime: this one is the only one, and
it never holds a token (``auth.credentials.redact_query`` hides every ``token``
value, however spelled). Lines go to the ``license_service.web.access`` logger at
INFO, so operators can route or silence them like any other logger.
"""

from __future__ import annotations

import logging

from starlette.types import Receive, Scope, Send

from license_service.auth.credentials import redact_query
from license_service.web.middleware.http_middleware import HttpMiddleware, observed

logger = logging.getLogger("license_service.web.access")


class AccessLogMiddleware(HttpMiddleware):
    """ASGI middleware writing one access log line per HTTP request."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request, then log it."""

        def log(status: int, seconds: float) -> None:
            # As sent (still percent-encoded): a decoded %0A could forge a log line.
            raw_path = scope.get("raw_path") or scope["path"].encode()
            query = redact_query(scope.get("query_string", b"").decode("latin-1"))
            client = scope.get("client")
            logger.info(
                "%s %s%s %d %.1f ms client=%s",
                scope["method"],
                _printable(raw_path.decode("latin-1")),
                _printable(f"?{query}") if query else "",
                status,
                seconds * 1000,
                client[0] if client else "-",
            )

        await observed(self.app, scope, receive, send, finished=log)


def _printable(text: str) -> str:
    return "".join(char if char.isprintable() else f"\\x{ord(char):02x}" for char in text)
