"""The days a push carries (SPEC 11, PUSH_FORMAT.md), assembled from the store.

Per UTC day of a period: the daily peak rows of products, bundled products and
services (the ``*_daily`` files' rows, as the row specifications write them in JSON),
the upload submissions received for that day, and the day's sampling coverage. Every
day of the period is listed, with empty lists when nothing was used, so the Reporter
knows the cluster reported it; only today is ``complete: false``. Reads only, on the
caller's connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import Connection

from license_service.audit.upload_files import UPLOAD_COLUMNS
from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.metering.row_specs import RowSpec
from license_service.metering.usage_rows import BUNDLED_PRODUCT_ROWS, PRODUCT_ROWS, SERVICE_ROWS
from license_service.store.daily_rows import rows_by_day
from license_service.store.instants import start_of_day
from license_service.store.sampling_gaps import sampling_summary
from license_service.store.stored_rows import decoded
from license_service.store.uploads import ReceivedSubmission, received_submissions

JsonObject = dict[str, object]
"""A JSON object of the payload (values: text, numbers, ``None``)."""

PUSHED_ROWS: Final[tuple[tuple[str, RowSpec[Any]], ...]] = (
    ("products", PRODUCT_ROWS),
    ("bundledProducts", BUNDLED_PRODUCT_ROWS),
    ("services", SERVICE_ROWS),
)
"""The payload's row lists, by field name, and the specification of their rows."""


@dataclass(frozen=True, slots=True)
class PushDay:
    """One UTC day as pushed: its daily peaks by kind, uploads, and sampling coverage."""

    day: date
    complete: bool
    rows: dict[str, list[dict[str, object]]]
    uploads: list[JsonObject]
    samples_taken: int
    samples_expected: int


def push_days(
    connection: Connection, *, cluster_id: ClusterId, period: DatePeriod, now: datetime
) -> list[PushDay]:
    """Every day of ``period`` (``now``'s day and earlier), ascending, as pushed."""
    today = now.date()
    rows: dict[date, dict[str, list[JsonObject]]] = {day: {} for day in period}
    for name, spec in PUSHED_ROWS:
        for day_text, stored in rows_by_day(connection, spec, cluster_id=cluster_id, period=period):
            rows[date.fromisoformat(day_text)][name] = [
                dict(spec.json(decoded(spec, values))) for values in stored
            ]
    uploads: dict[date, list[JsonObject]] = {day: [] for day in period}
    received = received_submissions(
        connection, cluster_id=cluster_id, first=period.first, last=period.last
    )
    for submission in received:
        uploads[submission.submission.day].append(upload_json(submission))
    days = []
    for day in period:
        start = start_of_day(day)
        end = min(start + timedelta(days=1), now)
        coverage = sampling_summary(connection, cluster_id=cluster_id, start=start, end=end)
        days.append(
            PushDay(
                day=day,
                complete=day < today,
                rows={name: rows[day].get(name, []) for name, _ in PUSHED_ROWS},
                uploads=uploads[day],
                samples_taken=coverage.samples_taken,
                samples_expected=coverage.samples_expected,
            )
        )
    return days


def upload_json(received: ReceivedSubmission) -> JsonObject:
    """An upload as pushed: the columns of ``uploads_<s>.csv`` without ``clusterId``, with
    ``metricValue`` the exact ``Decimal`` (written as a JSON number) and ``submissionId``
    ``""`` when none was given, as in the file."""
    item: JsonObject = {name: read(received) for name, read in UPLOAD_COLUMNS}
    item["date"] = received.submission.day.isoformat()
    item["metricValue"] = received.submission.value
    return item
