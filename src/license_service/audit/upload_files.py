"""``uploads_<s>.csv`` of an audit snapshot (SPEC 10): every accepted upload of the period.

One row per accepted submission whose day is in the period (a resend with a known
``submissionId`` was not stored, so it has no row), in the order received, with the
columns of SPEC 10 declared once in ``UPLOAD_COLUMNS``. The uploaded values
themselves are in the daily and period files (the store raised the daily peaks);
this file shows what was sent, so an auditor can recompute them. Cells go through
``formats.csv_lines`` (RFC 4180, formula guard); the same data gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Final

from sqlalchemy import Connection

from license_service.formats.csv_lines import Cell, csv_line, header_line
from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.store.uploads import ReceivedSubmission, received_submissions

_Getter = Callable[[ReceivedSubmission], Cell]

UPLOAD_COLUMNS: Final[Sequence[tuple[str, _Getter]]] = (
    ("receivedAt", lambda r: r.received_at.isoformat().replace("+00:00", "Z")),
    ("date", lambda r: r.submission.day),
    ("productId", lambda r: r.submission.product_id),
    ("productName", lambda r: r.submission.product_name),
    ("productMetric", lambda r: r.submission.metric),
    ("metricValue", lambda r: format(r.submission.value, "f")),
    ("aggregationPolicy", lambda r: r.submission.policy.value),
    ("cloudpakId", lambda r: r.submission.cloudpak_id),
    ("submissionId", lambda r: r.submission.submission_id or ""),
)
"""The columns of ``uploads_<s>.csv`` before ``clusterId``: header, and how to read it."""


class UploadsFile:
    """The lines of ``uploads_<s>.csv``; ``rows`` counts them once they are written."""

    def __init__(self, connection: Connection, *, cluster_id: ClusterId, period: DatePeriod):
        self._connection = connection
        self._cluster_id = cluster_id
        self._period = period
        self.rows = 0

    def chunks(self) -> Iterator[bytes]:
        """The header, then one line per accepted submission in the period."""
        yield header_line((*(name for name, _ in UPLOAD_COLUMNS), "clusterId"))
        received = received_submissions(
            self._connection,
            cluster_id=self._cluster_id,
            first=self._period.first,
            last=self._period.last,
        )
        for submission in received:
            self.rows += 1
            yield csv_line((*(read(submission) for _, read in UPLOAD_COLUMNS), self._cluster_id))
