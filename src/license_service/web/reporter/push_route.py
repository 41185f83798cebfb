"""``POST /v1/push`` (PUSH_FORMAT.md): a cluster's days in, ``acknowledgedThrough`` out.

Authentication is the Reporter token (the app's gate, so Bearer or ``?token=``); a
body over 16 MiB is 413 before it is parsed; ``push_format`` decodes and verifies it
(400 naming the field); the store keeps the days or refuses another key than the
pinned one (409, logged and recorded for ``/status``). Writes run in a worker thread.
"""

from __future__ import annotations

import functools
import logging

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from license_service.fleet.fleet_store import KeyRefusal, StoredDays, store_days
from license_service.fleet.push_format import MAX_BODY_BYTES, ReceivedPush, decode_push
from license_service.web.authentication import Endpoint
from license_service.web.error_responses import error_response
from license_service.web.reporter.bodies import BodyTooLargeError, bounded_body
from license_service.web.reporter.reporter_state import ReporterState

logger = logging.getLogger(__name__)

PUSH_PATH = "/v1/push"
_WRITERS = 4


def push_endpoint(state: ReporterState) -> Endpoint:
    """The handler of ``POST /v1/push``."""
    writers = anyio.CapacityLimiter(_WRITERS)

    async def push(request: Request) -> Response:
        try:
            raw = await bounded_body(request, limit=MAX_BODY_BYTES)
        except BodyTooLargeError:
            return error_response(
                413,
                f"the body is larger than {MAX_BODY_BYTES:,} bytes (16 MiB): push at most "
                "31 days at a time, in several pushes",
            )
        # Decoding (up to 16 MiB) and the RSA check run off the event loop too.
        decode = functools.partial(decode_push, raw, today=state.today())
        received = await anyio.to_thread.run_sync(decode)  # RequestError: 400
        keep = functools.partial(_keep, state, received)
        outcome = await anyio.to_thread.run_sync(keep, limiter=writers)
        if isinstance(outcome, KeyRefusal):
            logger.warning("Push refused: %s", outcome.message)
            return error_response(409, outcome.message)
        logger.info(
            "Push of cluster %s: %d days stored, acknowledged through %s",
            outcome.cluster_id,
            outcome.accepted,
            outcome.acknowledged_through,
        )
        through = outcome.acknowledged_through
        return JSONResponse(
            {
                "clusterId": outcome.cluster_id,
                "acknowledgedThrough": through.isoformat() if through else None,
                "accepted": outcome.accepted,
            }
        )

    return push


def _keep(state: ReporterState, received: ReceivedPush) -> StoredDays | KeyRefusal:
    with state.database.begin() as connection:
        return store_days(
            connection,
            received.cluster,
            received.days,
            fingerprint=received.fingerprint,
            public_key_pem=received.public_key_pem,
            now=state.now(),
            source="push",
        )
