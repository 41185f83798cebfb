"""What the API's middleware share: HTTP requests handled, anything else passed on untouched.

``HttpMiddleware`` is the ASGI shape of each of them: a subclass writes ``handle`` for
HTTP requests only (lifespan and other scopes go straight to the app). ``observed``
runs the app and tells an observer the status sent and the time taken once the
request ends, also when the app failed (status 500 if nothing was sent), so the
access log and the request figures measure a request the same way.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HttpMiddleware(ABC):
    """ASGI middleware whose ``handle`` sees HTTP requests; other scopes pass through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    @abstractmethod
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one HTTP request, passing it on to ``self.app`` or not."""


async def observed(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    finished: Callable[[int, float], None],
) -> None:
    """Run ``app``, then call ``finished(status, seconds)``, even when the app raised."""
    started = time.perf_counter()
    status = 500

    async def recording_send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        await send(message)

    try:
        await app(scope, receive, recording_send)
    finally:
        finished(status, time.perf_counter() - started)
