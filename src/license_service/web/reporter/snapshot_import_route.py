"""``POST /v1/snapshot_import`` (SPEC 11): a License Service audit snapshot (the zip) in.

The body is the zip (at most 256 MiB, 413 above), kept in a temporary file while
``fleet.snapshot_import`` verifies and stores it: 200 with the cluster and its
acknowledged day, 400 naming every finding of a snapshot that does not verify, 409
for another key than the cluster's pinned one.
"""

from __future__ import annotations

import functools
import logging
import tempfile
from pathlib import Path
from typing import Final

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from license_service.errors import SnapshotVerificationError
from license_service.fleet.fleet_store import KeyRefusal, StoredDays
from license_service.fleet.snapshot_import import import_snapshot
from license_service.web.authentication import Endpoint
from license_service.web.error_responses import error_response
from license_service.web.reporter.bodies import BodyTooLargeError, bounded_body
from license_service.web.reporter.reporter_state import ReporterState

logger = logging.getLogger(__name__)

SNAPSHOT_IMPORT_PATH: Final = "/v1/snapshot_import"
MAX_SNAPSHOT_BYTES: Final = 256 * 1024 * 1024


def snapshot_import_endpoint(state: ReporterState) -> Endpoint:
    """The handler of ``POST /v1/snapshot_import``."""

    async def answer(request: Request) -> Response:
        try:
            raw = await bounded_body(request, limit=MAX_SNAPSHOT_BYTES)
        except BodyTooLargeError:
            return error_response(
                413, f"the snapshot is larger than {MAX_SNAPSHOT_BYTES:,} bytes (256 MiB)"
            )
        try:
            outcome = await anyio.to_thread.run_sync(functools.partial(_import, state, raw))
        except SnapshotVerificationError as exc:
            logger.warning("Snapshot import refused: %s", exc)
            return error_response(400, str(exc))
        if isinstance(outcome, KeyRefusal):
            logger.warning("Snapshot import refused: %s", outcome.message)
            return error_response(409, outcome.message)
        return JSONResponse(imported_document(outcome))

    return answer


def imported_document(outcome: StoredDays) -> dict[str, object]:
    """The answer to a stored import (also what ``reporter import`` prints)."""
    through = outcome.acknowledged_through
    return {
        "clusterId": outcome.cluster_id,
        "acknowledgedThrough": through.isoformat() if through else None,
        "accepted": outcome.accepted,
    }


def _import(state: ReporterState, raw: bytes) -> StoredDays | KeyRefusal:
    with tempfile.TemporaryDirectory(prefix="snapshot-import-") as directory:
        path = Path(directory) / "snapshot.zip"
        path.write_bytes(raw)
        return import_snapshot(state.database, path, now=state.now())
