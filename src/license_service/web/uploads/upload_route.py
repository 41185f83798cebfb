"""``POST /v2/metric_upload`` (SPEC 10): usage that pods cannot show, pushed by products.

The handler authenticates with the upload token alone (``auth.upload_token``), reads a
JSON body of at most ``MAX_BODY_BYTES`` (413 above, before parsing), checks every item
(``metering.upload_items``: 400 naming index, field and fix), and stores the whole
request in one transaction (``store.uploads``): all of it or none of it. Success is
``200 {"accepted": N}``, N the items of the request; an item whose ``submissionId`` was
received before is acknowledged and counted there, but not applied again. A policy
other than the one its product and metric keep is 409. Numbers are read exactly
(``Decimal``); ``NaN`` and ``Infinity`` are refused. The body is never logged.
"""

from __future__ import annotations

import functools
import json
from decimal import Decimal
from typing import Any, Final

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from license_service.auth.credentials import credentials_from
from license_service.auth.identities import Denied
from license_service.metering.upload_items import MAX_ITEMS, UploadItemError, upload_submissions
from license_service.metering.uploads import Submission
from license_service.store.uploads import PolicyConflictError, record_uploads
from license_service.web.app_state import AppState
from license_service.web.authentication import Endpoint, denied_response
from license_service.web.error_responses import error_response

UPLOAD_PATH: Final = "/v2/metric_upload"
MAX_BODY_BYTES: Final = 1024 * 1024
"""The largest body accepted (SPEC 10): 1,000 items of about 1 KiB each."""
WRITERS: Final = 8
"""Uploads written at once; more wait (each is one short transaction)."""


class _BodyTooLarge(Exception):
    pass


def upload_endpoint(state: AppState) -> Endpoint:
    """The handler of ``POST /v2/metric_upload`` for ``state``."""
    writers = anyio.CapacityLimiter(WRITERS)

    async def upload(request: Request) -> Response:
        authenticator = state.upload_authenticator
        if authenticator is None:
            return error_response(
                503, "uploads are not configured on this server: no upload token is kept"
            )
        client = request.client.host if request.client else "unknown"
        decision = await authenticator.authenticate(
            credentials_from(request.query_params, request.headers.get("authorization")),
            path=request.url.path,
            client=client,
        )
        if isinstance(decision, Denied):
            state.request_metrics.record_authentication_failure(decision.reason)
            return denied_response(decision)
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            return error_response(
                415,
                "send the items as JSON with the header Content-Type: application/json",
            )
        try:
            raw = await _body(request)
        except _BodyTooLarge:
            return error_response(
                413,
                f"the body is larger than {MAX_BODY_BYTES:,} bytes (1 MiB); send at most "
                f"{MAX_ITEMS:,} items per request, in several requests",
            )
        try:
            body = json.loads(raw, parse_float=Decimal, parse_constant=_refused_constant)
        except (ValueError, RecursionError) as exc:
            return error_response(400, f"the body is not valid JSON ({_json_problem(exc)})")
        try:
            submissions = upload_submissions(body, today=state.today())
        except UploadItemError as exc:
            return error_response(400, str(exc))
        write = functools.partial(_record, state, submissions)
        try:
            await anyio.to_thread.run_sync(write, limiter=writers)
        except PolicyConflictError as exc:
            return error_response(409, str(exc))
        return JSONResponse({"accepted": len(submissions)})

    return upload


def _record(state: AppState, submissions: list[Submission]) -> int:
    with state.database.begin() as connection:
        return record_uploads(
            connection,
            cluster_id=state.cluster_id,
            received_at=state.now(),
            submissions=submissions,
        )


async def _body(request: Request) -> bytes:
    """The request body, refused (``_BodyTooLarge``) as soon as it passes the limit."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _BodyTooLarge
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > MAX_BODY_BYTES:
            raise _BodyTooLarge
    return bytes(received)


def _refused_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows; send a finite number")


def _json_problem(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at line {error.lineno}, column {error.colno}"
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return str(error).splitlines()[0][:200] if str(error) else type(error).__name__
