"""``/snapshot`` (SPEC 3.8, 5): the audit snapshot of a period, as a zip download.

The zip is written by ``audit.snapshots.write_snapshot`` in a worker thread into an
anonymous temporary file (already unlinked, so nothing is left behind whatever
happens), then streamed to the client in chunks read in worker threads: memory
stays bounded for 731 days of data, and the event loop never blocks. The period
parameters are those of the reports (``dateFrom``/``dateTo``, default: 30 days).
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from typing import BinaryIO, Final

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from license_service.audit.snapshot_context import SnapshotContext
from license_service.audit.snapshot_names import snapshot_file_name
from license_service.audit.snapshots import write_snapshot
from license_service.metering.periods import DatePeriod
from license_service.web.app_state import AppState
from license_service.web.authentication import Endpoint
from license_service.web.reports.period_parameters import period_from

ZIP_MEDIA_TYPE: Final = "application/zip"
CHUNK_BYTES: Final = 256 * 1024


def snapshot_endpoint(state: AppState) -> Endpoint:
    """The handler of ``/snapshot``."""

    async def answer(request: Request) -> Response:
        period = period_from(request.query_params, today=state.today())
        file_name = snapshot_file_name(state.cluster_id, period)
        spool = await run_in_threadpool(built_snapshot, state, period)
        size = spool.tell()
        spool.seek(0)
        return StreamingResponse(
            spooled_chunks(spool),
            media_type=ZIP_MEDIA_TYPE,
            headers={
                "Content-Disposition": f'attachment; filename="{file_name}"',
                "Content-Length": str(size),
            },
        )

    return answer


def built_snapshot(state: AppState, period: DatePeriod) -> BinaryIO:
    """The snapshot of ``period`` in an open anonymous temporary file; blocking."""
    spool = tempfile.TemporaryFile(dir=state.temp_dir)  # noqa: SIM115 - closed by spooled_chunks
    try:
        write_snapshot(
            state.database,
            context=SnapshotContext(
                version=state.version.version,
                cluster_id=state.cluster_id,
                cluster_name=state.cluster_name,
                generated_at=state.now(),
                retention_sample_days=state.retention_sample_days,
                retention_peak_days=state.retention_peak_days,
                entitlements=state.entitlements(),
                chargeback=state.licensing().chargeback_enabled,
            ),
            period=period,
            signing_key=state.signing_key,
            out=spool,
        )
    except BaseException:
        spool.close()
        raise
    return spool


async def spooled_chunks(spool: BinaryIO) -> AsyncIterator[bytes]:
    """The bytes of ``spool`` from its position, read in worker threads; closes it at the end."""
    try:
        while chunk := await run_in_threadpool(spool.read, CHUNK_BYTES):
            yield chunk
    finally:
        spool.close()
