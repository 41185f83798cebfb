"""The Reporter's ``GET /snapshot`` (SPEC 11): the fleet's signed snapshot of a period, a zip.

SPEC 3's period parameters (``dateFrom``/``dateTo``, default the last 30 days, the same
400s). The zip is written by ``fleet.fleet_snapshot.write_fleet_snapshot`` in a worker
thread into an anonymous temporary file, then streamed in chunks read in worker threads,
as License Service's ``/snapshot`` does: memory stays bounded and the event loop free.
"""

from __future__ import annotations

import tempfile
from typing import BinaryIO, Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from license_service.audit.fleet_snapshot_names import fleet_snapshot_file_name
from license_service.fleet.fleet_snapshot import write_fleet_snapshot
from license_service.metering.periods import DatePeriod
from license_service.signing.keys import SigningKey
from license_service.web.authentication import Endpoint
from license_service.web.error_responses import error_response
from license_service.web.reporter.reporter_state import ReporterState
from license_service.web.reports.period_parameters import period_from
from license_service.web.reports.snapshot_route import ZIP_MEDIA_TYPE, spooled_chunks

SNAPSHOT_PATH: Final = "/snapshot"


def fleet_snapshot_endpoint(state: ReporterState) -> Endpoint:
    """The handler of the Reporter's ``/snapshot``."""

    async def answer(request: Request) -> Response:
        period = period_from(request.query_params, today=state.today())
        key = state.signing_key
        if key is None:
            return error_response(
                503,
                "this Reporter has no signing key, so it cannot sign a snapshot: start it with "
                "`license-service reporter`, which keeps one in its data directory",
            )
        spool = await run_in_threadpool(_built_snapshot, state, period, key)
        size = spool.tell()
        spool.seek(0)
        return StreamingResponse(
            spooled_chunks(spool),
            media_type=ZIP_MEDIA_TYPE,
            headers={
                "Content-Disposition": (
                    f'attachment; filename="{fleet_snapshot_file_name(period)}"'
                ),
                "Content-Length": str(size),
            },
        )

    return answer


def _built_snapshot(state: ReporterState, period: DatePeriod, key: SigningKey) -> BinaryIO:
    """The snapshot of ``period`` signed by ``key``, in an open anonymous temporary file;
    blocking."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by spooled_chunks
    try:
        write_fleet_snapshot(
            state.database,
            period,
            signing_key=key,
            out=spool,
            version=state.version.version,
            generated_at=state.now(),
        )
    except BaseException:
        spool.close()
        raise
    return spool
