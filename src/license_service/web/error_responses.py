"""Every error answer of the API, built here and nowhere else (SPEC 3 "Errors are JSON").

The body is always ``{"status": <code>, "error": "<reason phrase>", "message": "..."}``.
``exception_handlers`` maps errors to answers by base class, once for the whole app:

=======================  ======  ==================================================
``NoSuchDataError``      404     valid parameters naming nothing stored
``RequestError``         400     a query parameter cannot be used
``HTTPException``        404/405 no such path / method not allowed (``Allow`` kept)
``StorageError``         503     the database cannot be read right now
``ClusterError``         503     the cluster state cannot be read right now
``LicenseServiceError``  500     any other error of ours (logged with its traceback)
``Exception``            500     a bug (logged by the server); no detail is shown
=======================  ======  ==================================================

Messages of our errors name the value and how to fix it, and never hold a secret.
Nor do they echo what a refused request sent: a path or method is named only when it
is one the app serves or HTTP defines (``shown_request``), so ``/products;token=T``
or a token pasted into the path never comes back in an answer, a cache or a log.
"""

from __future__ import annotations

import http
import logging
from collections.abc import Mapping
from typing import Final, TypedDict

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ExceptionHandler

from license_service.errors import (
    ClusterError,
    LicenseServiceError,
    NoSuchDataError,
    RequestError,
    StorageError,
)
from license_service.web.middleware.request_metrics import KNOWN_METHODS
from license_service.web.middleware.security_headers import SECURITY_HEADERS

logger = logging.getLogger(__name__)

# Checked in order: the first class the error is an instance of decides.
ERROR_STATUSES: Final[tuple[tuple[type[LicenseServiceError], int], ...]] = (
    (NoSuchDataError, 404),
    (RequestError, 400),
    (StorageError, 503),
    (ClusterError, 503),
)
_ENDPOINTS_HINT: Final = "the endpoints are listed at / and described at /openapi.json"


class ErrorBody(TypedDict):
    """The JSON body of every error answer."""

    status: int
    error: str
    message: str


def error_body(status: int, message: str) -> ErrorBody:
    """The error body of ``status`` (its reason phrase as ``error``) with ``message``."""
    return {"status": status, "error": http.HTTPStatus(status).phrase, "message": message}


def error_response(
    status: int, message: str, *, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """A JSON error answer of ``status`` with ``message`` (and extra ``headers``)."""
    return JSONResponse(error_body(status, message), status_code=status, headers=headers)


def first_line_of(error: Exception) -> str:
    """The first line of ``error``'s message (the rest is for the log), or its class name."""
    lines = str(error).splitlines()
    return lines[0] if lines else type(error).__name__


def status_of(error: LicenseServiceError) -> int:
    """The HTTP status that answers ``error``."""
    for error_class, status in ERROR_STATUSES:
        if isinstance(error, error_class):
            return status
    return 500


def exception_handlers() -> dict[object, ExceptionHandler]:
    """The handlers to give ``Starlette(exception_handlers=...)``."""
    return {
        HTTPException: _http_exception,
        LicenseServiceError: _license_service_error,
        Exception: _unexpected_error,
    }


def served_paths(request: Request) -> frozenset[str]:
    """The paths of the app's routes (the app that answers ``request``)."""
    routes = getattr(request.app, "routes", ())
    return frozenset(route.path for route in routes if isinstance(route, Route))


def shown_request(request: Request) -> str:
    """``"GET /products"`` when both are the app's own, else ``"this request"``: never an echo."""
    method, path = request.method, request.url.path
    if method in KNOWN_METHODS and path in served_paths(request):
        return f"{method} {path}"
    return "this request"


def _not_found_message(request: Request) -> str:
    trimmed = request.url.path.rstrip("/")
    if trimmed and trimmed in served_paths(request):
        return (
            f"there is no endpoint at this path; write it without the trailing /: {_ENDPOINTS_HINT}"
        )
    return f"there is no endpoint at this path: {_ENDPOINTS_HINT}"


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    # A 405 is answered on a route the path matched, so the path is the app's own.
    path = request.url.path
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        message = _not_found_message(request)
    elif exc.status_code == 405:
        # Starlette lists a route's methods in set order: give them in a stable one, GET first.
        methods = sorted(
            (method.strip() for method in headers.get("Allow", "GET").split(",")),
            key=lambda method: (method != "GET", method),
        )
        headers["Allow"] = ", ".join(methods)
        method = f"method {request.method}" if request.method in KNOWN_METHODS else "this method"
        message = (
            f"{method} is not allowed on {path}: use {methods[0]} (allowed: {headers['Allow']})"
        )
    else:
        message = exc.detail or http.HTTPStatus(exc.status_code).phrase
    return error_response(exc.status_code, message, headers=headers)


async def _license_service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LicenseServiceError)
    status = status_of(exc)
    first_line = first_line_of(exc)
    if status in {400, 404}:
        return error_response(status, first_line)
    if status == 503:
        logger.warning("%s answered 503: %s", shown_request(request), exc)
        return error_response(
            503, f"{first_line}; retry in a moment, and see the service log if it persists"
        )
    logger.error("%s failed: %s", shown_request(request), first_line, exc_info=exc)
    return error_response(500, f"{first_line}; see the service log for details")


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    # The server logs the traceback; the body shows no internals. Starlette answers
    # this outside the app's middleware, so the answer brings its own headers.
    del exc
    return error_response(
        500,
        f"{shown_request(request)} failed because of an internal error; "
        "see the service log for details",
        headers=SECURITY_HEADERS,
    )
