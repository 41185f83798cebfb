"""Request bodies of the Reporter's POST endpoints: read up to a limit, 413 above it."""

from __future__ import annotations

from starlette.requests import Request


class BodyTooLargeError(Exception):
    """The body passed its limit (answered 413)."""


async def bounded_body(request: Request, *, limit: int) -> bytes:
    """The request body, refused (``BodyTooLargeError``) as soon as it passes ``limit``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > limit:
            raise BodyTooLargeError
    return bytes(received)
