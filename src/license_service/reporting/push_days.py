"""The days a push carries (SPEC 11, PUSH_FORMAT.md), assembled from the store.

Per UTC day of a period, a ``fleet.push_format.PushDay``: the daily peak rows of
products, bundled products and services (the ``*_daily`` files' rows, read back
through the row specifications), the upload submissions received for that day, and
the day's sampling coverage. Every day of the period is listed, with no rows when
nothing was used, so the Reporter knows the cluster reported it; only today is
incomplete. Reads only, on the caller's connection.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from license_service.fleet.push_format import Coverage, PushDay, PushUpload
from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.metering.row_specs import RowSpec
from license_service.metering.usage_rows import BUNDLED_PRODUCT_ROWS, PRODUCT_ROWS, SERVICE_ROWS
from license_service.store.daily_rows import rows_by_day
from license_service.store.instants import start_of_day
from license_service.store.sampling_gaps import sampling_summary
from license_service.store.stored_rows import decoded
from license_service.store.uploads import ReceivedSubmission, received_submissions


def push_days(
    connection: Connection, *, cluster_id: ClusterId, period: DatePeriod, now: datetime
) -> list[PushDay]:
    """Every day of ``period`` (``now``'s day and earlier), ascending, as pushed."""
    today = now.date()
    products = _daily(connection, PRODUCT_ROWS, cluster_id, period)
    bundled = _daily(connection, BUNDLED_PRODUCT_ROWS, cluster_id, period)
    services = _daily(connection, SERVICE_ROWS, cluster_id, period)
    uploads: dict[date, list[PushUpload]] = {day: [] for day in period}
    received = received_submissions(
        connection, cluster_id=cluster_id, first=period.first, last=period.last
    )
    for submission in received:
        uploads[submission.submission.day].append(push_upload(submission))
    days = []
    for day in period:
        start = start_of_day(day)
        end = min(start + timedelta(days=1), now)
        coverage = sampling_summary(connection, cluster_id=cluster_id, start=start, end=end)
        days.append(
            PushDay(
                date=day,
                complete=day < today,
                products=products.get(day, ()),
                bundled_products=bundled.get(day, ()),
                services=services.get(day, ()),
                uploads=tuple(uploads[day]),
                coverage=Coverage(coverage.samples_taken, coverage.samples_expected),
            )
        )
    return days


def _daily(
    connection: Connection, spec: RowSpec[Any], cluster_id: ClusterId, period: DatePeriod
) -> dict[date, tuple[Any, ...]]:
    """The daily peak rows of kind ``spec`` by day (days without usage left out)."""
    return {
        date.fromisoformat(day_text): tuple(decoded(spec, values) for values in stored)
        for day_text, stored in rows_by_day(connection, spec, cluster_id=cluster_id, period=period)
    }


def push_upload(received: ReceivedSubmission) -> PushUpload:
    """An accepted upload as pushed: the row of ``uploads_<s>.csv`` without ``clusterId``
    (``submissionId`` ``""`` when none was given, as in the file)."""
    submission = received.submission
    return PushUpload(
        received_at=received.received_at,
        date=submission.day,
        product_id=submission.product_id,
        product_name=submission.product_name,
        product_metric=submission.metric,
        metric_value=submission.value,
        aggregation_policy=submission.policy,
        cloudpak_id=submission.cloudpak_id,
        submission_id=submission.submission_id or "",
    )
