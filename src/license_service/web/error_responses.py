"""Every error answer of the API, built here and nowhere else (SPEC 3 "Errors are JSON").

The body is always ``{"status": <code>, "error": "<reason phrase>", "message": "..."}``.
``exception_handlers`` maps errors to answers by base class, once for the whole app:

=======================  ======  ==================================================
``RequestError``         400     a query parameter cannot be used
``HTTPException``        404/405 no such path / method not allowed (``Allow`` kept)
``StorageError``         503     the database cannot be read right now
``ClusterError``         503     the cluster state cannot be read right now
``LicenseServiceError``  500     any other error of ours (logged with its traceback)
``Exception``            500     a bug (logged by the server); no detail is shown
=======================  ======  ==================================================

Messages of our errors name the value and how to fix it, and never hold a secret.
"""

from __future__ import annotations

import http
import logging
from collections.abc import Mapping
from typing import Final, TypedDict

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ExceptionHandler

from license_service.errors import (
    ClusterError,
    LicenseServiceError,
    RequestError,
    StorageError,
)
from license_service.web.middleware.security_headers import SECURITY_HEADERS

logger = logging.getLogger(__name__)

# Checked in order: the first class the error is an instance of decides.
ERROR_STATUSES: Final[tuple[tuple[type[LicenseServiceError], int], ...]] = (
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


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    path = request.url.path
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        message = f"there is no endpoint at {path}: {_ENDPOINTS_HINT}"
    elif exc.status_code == 405:
        # Starlette lists a route's methods in set order: give them in a stable one, GET first.
        methods = sorted(
            (method.strip() for method in headers.get("Allow", "GET").split(",")),
            key=lambda method: (method != "GET", method),
        )
        headers["Allow"] = ", ".join(methods)
        message = (
            f"method {request.method} is not allowed on {path}: use {methods[0]} "
            f"(allowed: {headers['Allow']})"
        )
    else:
        message = exc.detail or http.HTTPStatus(exc.status_code).phrase
    return error_response(exc.status_code, message, headers=headers)


async def _license_service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LicenseServiceError)
    status = status_of(exc)
    first_line = first_line_of(exc)
    if status == 400:
        return error_response(400, first_line)
    if status == 503:
        logger.warning("%s %s answered 503: %s", request.method, request.url.path, exc)
        return error_response(
            503, f"{first_line}; retry in a moment, and see the service log if it persists"
        )
    logger.error("%s %s failed: %s", request.method, request.url.path, first_line, exc_info=exc)
    return error_response(500, f"{first_line}; see the service log for details")


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    # The server logs the traceback; the body shows no internals. Starlette answers
    # this outside the app's middleware, so the answer brings its own headers.
    del exc
    return error_response(
        500,
        f"{request.method} {request.url.path} failed because of an internal error; "
        "see the service log for details",
        headers=SECURITY_HEADERS,
    )
