"""Bounds on what a request may ask the app to read, checked before routing or authentication.

The API's paths are short, it takes at most seven short query parameters, and a
client needs a dozen headers. ``RequestLimitMiddleware`` refuses a path longer than
``MAX_PATH_BYTES`` or a query string longer than ``MAX_QUERY_BYTES`` (414), a query
of more than ``MAX_QUERY_PARAMETERS`` parameters or giving one of the API's
parameters twice (400: which value would count is not guessed), and more than
``MAX_HEADERS`` headers or ``MAX_HEADER_BYTES`` of them (431), so no request makes the
app parse, log, echo or compare megabytes. The server (uvicorn with h11) refuses a
request head over 16 KiB only when it arrives in several reads; a head read at once
(up to the socket's read size) reaches the app, and these bounds apply to it.
"""

from __future__ import annotations

from collections import Counter
from typing import Final
from urllib.parse import parse_qsl

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from license_service.auth.credentials import TOKEN_PARAMETER
from license_service.web.error_responses import error_response
from license_service.web.middleware.http_middleware import HttpMiddleware
from license_service.web.reports.period_parameters import FROM_NAMES, TO_NAMES

MAX_PATH_BYTES: Final = 1024
MAX_QUERY_BYTES: Final = 8 * 1024
"""The longest query string. It holds the longest API token (``tokens.rules.MAX_LENGTH``,
1,024 characters that never need percent-encoding) with both dates, ``format`` and a
``metricName`` as long as an annotation value may be (1,024 characters, percent-encoded:
7,235 bytes in all with two-byte characters such as ``é``). A longer token cannot be
kept (``token set`` and the server refuse it), so no request is refused here for
carrying a valid token."""
MAX_QUERY_PARAMETERS: Final = 64
MAX_HEADERS: Final = 100
MAX_HEADER_BYTES: Final = 16 * 1024
API_PARAMETERS: Final = frozenset({*FROM_NAMES, *TO_NAMES, "metricName", "format", TOKEN_PARAMETER})


class RequestLimitMiddleware(HttpMiddleware):
    """ASGI middleware answering an oversized path, query or set of headers with a JSON error."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse the request if it is oversized, else let the app answer it."""
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        query: bytes = scope.get("query_string", b"")
        refusal = target_refusal(raw_path, query) or headers_refusal(scope["headers"])
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)


def target_refusal(path: bytes, query: bytes) -> Response | None:
    """The error answer to a raw path and query string the app will not read, or ``None``."""
    if len(path) > MAX_PATH_BYTES:
        return error_response(
            414,
            f"the path has {len(path)} bytes, more than the {MAX_PATH_BYTES} allowed: "
            "the endpoints are listed at / and described at /openapi.json",
        )
    if len(query) > MAX_QUERY_BYTES:
        return error_response(
            414,
            f"the query string has {len(query)} bytes, more than the {MAX_QUERY_BYTES} "
            "allowed: the API's parameters (dates, metricName, format, token) need far less",
        )
    # Counting separators bounds the work without parsing (';' counted too, as the logs do).
    parameters = query.count(b"&") + query.count(b";") + 1 if query else 0
    if parameters > MAX_QUERY_PARAMETERS:
        return error_response(
            400,
            f"the query string has {parameters} parameters, more than the "
            f"{MAX_QUERY_PARAMETERS} allowed: send only dateFrom, dateTo (or startDate, "
            "endDate), metricName, format and token",
        )
    # Parsed as Starlette parses it, so the names are those the handlers read.
    counts = Counter(name for name, _ in parse_qsl(query.decode("latin-1"), keep_blank_values=True))
    repeated = sorted(
        name for name, count in counts.items() if count > 1 and name in API_PARAMETERS
    )
    if repeated:
        return error_response(
            400,
            f"{', '.join(repeated)} given more than once: give each parameter once "
            "(which value was meant is not guessed)",
        )
    return None


def headers_refusal(headers: list[tuple[bytes, bytes]]) -> Response | None:
    """The error answer to request headers the app will not read, or ``None``."""
    size = sum(len(name) + len(value) for name, value in headers)
    if len(headers) > MAX_HEADERS or size > MAX_HEADER_BYTES:
        return error_response(
            431,
            f"the request has {len(headers)} headers of {size} bytes, more than the "
            f"{MAX_HEADERS} headers or {MAX_HEADER_BYTES} bytes allowed: send only the "
            "headers the API needs (Authorization, Accept)",
        )
    return None
