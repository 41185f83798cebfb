"""Headers every API answer carries: nothing stored, no referrer, no sniffing, no script.

Tokens travel in URLs (``?token=``), so no answer may be kept by a browser or a
proxy, nor leak its address in a ``Referer``. ``SecurityHeadersMiddleware`` gives
every answer (JSON, CSV, snapshot, page, error) ``SECURITY_HEADERS``: a header the
endpoint set itself is kept, so the pages keep their nonce'd Content-Security-Policy
while JSON opened in a browser gets one that allows nothing. A 500 is answered
outside the middleware (by Starlette's outermost layer), so ``error_responses`` adds
the same headers to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from license_service.web.middleware.http_middleware import HttpMiddleware

DATA_POLICY: Final = "default-src 'none'; frame-ancestors 'none'"

SECURITY_HEADERS: Final[Mapping[str, str]] = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": DATA_POLICY,
}
"""What every answer carries unless its endpoint set the header itself."""


class SecurityHeadersMiddleware(HttpMiddleware):
    """ASGI middleware adding each of ``SECURITY_HEADERS`` that an answer lacks."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request with the headers it lacks added."""

        async def hardened_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, hardened_send)
