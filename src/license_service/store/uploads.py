"""Uploaded usage in the store (SPEC 10): recording a batch, reading submissions back.

``record_uploads`` writes a request's submissions on the caller's connection, in the
caller's transaction, so a batch is stored whole or not at all (a crash mid-batch
leaves none of it). Each item is one row of ``metric_uploads``; the day values they
make (``metering.uploads``) are computed again from every stored submission of the
products touched and raised into the daily peak tables, so every report reads them
with no extra work; a Cloud Pak's day adds its uploaded converted values to its
measured sum before the one round-up (``cloudpak_days``). Writers of one product (or
one Cloud Pak) are serialised, so concurrent ``ADD`` uploads lose nothing, on SQLite
and PostgreSQL alike.

- Idempotency: a submission id already stored for the cluster (or repeated within the
  batch) is acknowledged and not stored again: the first one received counts. The
  unique (cluster, submission id) constraint decides between concurrent requests.
- One policy per product and metric: the first upload's policy is written to
  ``upload_policies`` (insert-or-nothing on its primary key, so concurrent first
  uploads meet there); a batch bringing another policy raises ``PolicyConflictError``
  and stores nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import Connection, Insert, Table, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from license_service.errors import InputError
from license_service.metering.cloudpak_sums import converted_sums
from license_service.metering.cluster_view import ClusterId
from license_service.metering.explanation_cells import ExplainedRow
from license_service.metering.row_specs import stored_ratio
from license_service.metering.uploads import (
    AggregationPolicy,
    Submission,
    day_upload,
    month_end,
    month_start,
    uploaded_days,
)
from license_service.metering.usage_rows import BUNDLED_PRODUCT_ROWS, PRODUCT_ROWS
from license_service.store.cloudpak_days import lock_cloudpaks, record_uploaded_sums
from license_service.store.daily_peaks import record_daily_peaks
from license_service.store.instants import start_of_day, utc_instant
from license_service.store.stored_rows import MeasurementRows, stored_rows
from license_service.store.tables import metric_uploads, upload_policies

_CHUNK: Final = 500
_SUBMISSION_COLUMNS: Final = (
    "day",
    "product_id",
    "product_name",
    "metric",
    "metric_value",
    "aggregation_policy",
    "cloudpak_id",
    "cloudpak_name",
    "cloudpak_metric",
    "conversion",
    "submission_id",
)


class PolicyConflictError(InputError):
    """A submission whose policy differs from the one its product and metric keep (409)."""

    def __init__(self, message: str, *, index: int) -> None:
        super().__init__(message)
        self.index = index


@dataclass(frozen=True, slots=True)
class ReceivedSubmission:
    """A stored submission and when it was received (a row of ``uploads_<s>.csv``)."""

    received_at: datetime
    submission: Submission


def record_uploads(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    received_at: datetime,
    submissions: Sequence[Submission],
) -> int:
    """Store ``submissions`` (a whole request); return how many were new (not repeats).

    Raises ``PolicyConflictError`` (nothing to keep: the caller rolls back) when a
    submission's policy differs from its product and metric's, or from another
    item's of the same batch.
    """
    instant = utc_instant(received_at, name="received_at")
    _settle_policies(connection, cluster_id=cluster_id, submissions=submissions)
    fresh = _not_yet_received(connection, cluster_id=cluster_id, submissions=submissions)
    if not fresh:
        return 0
    rows = [_row(cluster_id, instant, submission) for submission in fresh]
    # Insert-or-nothing: a concurrent request may have stored one of the ids since they
    # were looked up; the unique constraint decides, and the later row is left out.
    statement = _insert_or_nothing(connection, metric_uploads, ("cluster_id", "submission_id"))
    for start in range(0, len(rows), _CHUNK):
        connection.execute(statement, rows[start : start + _CHUNK])
    raise_uploaded_days(connection, cluster_id=cluster_id, submissions=fresh)
    return len(rows)


def raise_uploaded_days(
    connection: Connection, *, cluster_id: ClusterId, submissions: Sequence[Submission]
) -> None:
    """Write the day values ``submissions`` (just stored) change into the daily peaks.

    Per product and metric, and per Cloud Pak, the writers are serialised first (row
    locks on ``upload_policies`` and advisory locks on PostgreSQL; SQLite's one writer),
    then the day values are computed again from every stored submission since the first
    of the earliest month touched (an ``ADD_MONTHLY`` total starts there) and raised:
    values only grow as submissions arrive, so "the higher wins" keeps the measured and
    uploaded maximum, whatever order writers commit in.
    """
    if not submissions:
        return
    products = sorted({s.policy_key for s in submissions})
    cloudpaks = sorted({(s.cloudpak_id, s.cloudpak_metric) for s in submissions if s.bundled})
    _lock_products(connection, cluster_id=cluster_id, keys=products)
    lock_cloudpaks(connection, cluster_id=cluster_id, keys=cloudpaks)
    first = min(month_start(s.day) for s in submissions)
    last = month_end(max(s.day for s in submissions))  # ADD_MONTHLY raises later days
    stored = _submissions_between(connection, cluster_id=cluster_id, first=first, last=last)
    wanted_products, wanted_cloudpaks = set(products), set(cloudpaks)
    touched = [
        s
        for s in stored
        if s.policy_key in wanted_products
        or (s.bundled and (s.cloudpak_id, s.cloudpak_metric) in wanted_cloudpaks)
    ]
    for day, usage in uploaded_days(touched, first=first, last=last).items():
        names_at = start_of_day(day)  # a sample of the day names the row, when there is one
        product_rows = [r for r in usage.products if (r.id, r.metric) in wanted_products]
        bundled_rows = [
            r for r in usage.bundled_products if (r.product_id, r.metric) in wanted_products
        ]
        record_daily_peaks(
            connection,
            cluster_id=cluster_id,
            day=day,
            taken_at=names_at,
            rows=MeasurementRows(
                stored_rows(PRODUCT_ROWS, product_rows),
                stored_rows(BUNDLED_PRODUCT_ROWS, bundled_rows),
                [],
            ),
        )
        in_cloudpaks = [
            r
            for r in usage.bundled_products
            if (r.cloudpak_id, r.cloudpak_metric) in wanted_cloudpaks
        ]
        names = {(r.cloudpak_id, r.cloudpak_metric): r.cloudpak_name for r in in_cloudpaks}
        record_uploaded_sums(
            connection,
            cluster_id=cluster_id,
            day=day,
            names_at=names_at,
            sums=converted_sums(in_cloudpaks),
            names=names,
        )


def _lock_products(
    connection: Connection, *, cluster_id: ClusterId, keys: list[tuple[str, str]]
) -> None:
    """PostgreSQL: lock the policy rows of ``keys`` (in order) until the transaction ends."""
    if connection.dialect.name != "postgresql":
        return
    table = upload_policies
    for product_id, metric in keys:
        connection.execute(
            select(table.c.product_id)
            .where(
                table.c.cluster_id == cluster_id,
                table.c.product_id == product_id,
                table.c.metric == metric,
            )
            .with_for_update()
        )


def received_submissions(
    connection: Connection, *, cluster_id: ClusterId, first: date, last: date
) -> list[ReceivedSubmission]:
    """The submissions for days ``first`` to ``last``, in the order received."""
    table = metric_uploads
    found = connection.execute(
        select(table)
        .where(table.c.cluster_id == cluster_id, table.c.day >= first, table.c.day <= last)
        .order_by(table.c.received_at, table.c.id)
    )
    return [ReceivedSubmission(row.received_at, _submission(row)) for row in found]


@dataclass(frozen=True, slots=True)
class RowDayUploads:
    """What uploads make of one usage row's day: its value (before any Cloud Pak
    conversion) and the submissions making it, in the order received."""

    quantity: int
    submissions: tuple[ReceivedSubmission, ...]


def row_day_uploads(
    connection: Connection, *, cluster_id: ClusterId, day: date, row: ExplainedRow
) -> RowDayUploads | None:
    """The uploaded value of ``row`` (a stand-alone or bundled product's row) on ``day``
    and its submissions; ``None`` when nothing was uploaded for it that day."""
    table = metric_uploads
    found = connection.execute(
        select(table)
        .where(
            table.c.cluster_id == cluster_id,
            table.c.day >= month_start(day),
            table.c.day <= day,
            table.c.product_id == row.product_id,
            table.c.metric == row.metric,
            table.c.cloudpak_id == row.cloudpak_id,
        )
        .order_by(table.c.received_at, table.c.id)
    )
    received = [
        kept
        for kept in (ReceivedSubmission(r.received_at, _submission(r)) for r in found)
        if _explains(row, kept.submission)
    ]
    upload = day_upload([kept.submission for kept in received], day=day)
    if upload is None:
        return None
    return RowDayUploads(upload.quantity, tuple(received[index] for index in upload.making))


def _explains(row: ExplainedRow, submission: Submission) -> bool:
    """Whether ``submission`` counts in ``row`` (a bundled row: same Cloud Pak metric and ratio)."""
    if not submission.bundled:
        return not row.cloudpak_id
    return (submission.cloudpak_metric, str(submission.ratio)) == (
        row.cloudpak_metric,
        row.conversion,
    )


def _submissions_between(
    connection: Connection, *, cluster_id: ClusterId, first: date, last: date
) -> list[Submission]:
    """The stored submissions for days ``first`` to ``last``, in the order received."""
    table = metric_uploads
    found = connection.execute(
        select(*(table.c[name] for name in _SUBMISSION_COLUMNS))
        .where(table.c.cluster_id == cluster_id, table.c.day >= first, table.c.day <= last)
        .order_by(table.c.received_at, table.c.id)
    )
    return [_submission(row) for row in found]


def uploaded_product_keys(connection: Connection, *, cluster_id: ClusterId) -> set[tuple[str, str]]:
    """Every (product id, metric) with uploaded values (to empty ``unmeasuredMetrics``)."""
    table = upload_policies
    found = connection.execute(
        select(table.c.product_id, table.c.metric).where(table.c.cluster_id == cluster_id)
    )
    return {(row.product_id, row.metric) for row in found}


def _settle_policies(
    connection: Connection, *, cluster_id: ClusterId, submissions: Sequence[Submission]
) -> None:
    """Record the policy of each new product and metric; refuse a batch that differs."""
    wanted: dict[tuple[str, str], tuple[AggregationPolicy, int]] = {}
    for index, submission in enumerate(submissions):
        key = submission.policy_key
        first = wanted.setdefault(key, (submission.policy, index))
        if first[0] is not submission.policy:
            raise PolicyConflictError(
                f"item {index}, field aggregationPolicy: {submission.policy} differs from "
                f"{first[0]} of item {first[1]} for product {key[0]!r} metric {key[1]!r}; one "
                "product and metric keeps one policy: send the same policy",
                index=index,
            )
    statement = _insert_or_nothing(
        connection, upload_policies, ("cluster_id", "product_id", "metric")
    )
    for (product_id, metric), (policy, _) in sorted(wanted.items()):
        # Sorted: concurrent batches take the keys' locks in one order (no deadlock).
        connection.execute(
            statement,
            {
                "cluster_id": cluster_id,
                "product_id": product_id,
                "metric": metric,
                "aggregation_policy": policy.value,
            },
        )
    kept = _kept_policies(connection, cluster_id=cluster_id, keys=list(wanted))
    for key, (policy, index) in wanted.items():
        stored = kept.get(key)
        if stored is not None and stored != policy.value:
            raise PolicyConflictError(
                f"item {index}, field aggregationPolicy: product {key[0]!r} metric {key[1]!r} "
                f"keeps the policy {stored} of its first upload, not {policy}; send "
                f"{stored} (one product and metric keeps one policy)",
                index=index,
            )


def _kept_policies(
    connection: Connection, *, cluster_id: ClusterId, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    table = upload_policies
    kept: dict[tuple[str, str], str] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        found = connection.execute(
            select(table.c.product_id, table.c.metric, table.c.aggregation_policy).where(
                table.c.cluster_id == cluster_id,
                tuple_(table.c.product_id, table.c.metric).in_(chunk),
            )
        )
        kept.update({(row.product_id, row.metric): row.aggregation_policy for row in found})
    return kept


def _not_yet_received(
    connection: Connection, *, cluster_id: ClusterId, submissions: Sequence[Submission]
) -> list[Submission]:
    """``submissions`` without those whose id is stored already or came earlier in the batch."""
    ids = sorted({s.submission_id for s in submissions if s.submission_id is not None})
    stored: set[str] = set()
    table = metric_uploads
    for start in range(0, len(ids), _CHUNK):
        found = connection.execute(
            select(table.c.submission_id).where(
                table.c.cluster_id == cluster_id,
                table.c.submission_id.in_(ids[start : start + _CHUNK]),
            )
        )
        stored.update(row.submission_id for row in found)
    fresh: list[Submission] = []
    for submission in submissions:
        if submission.submission_id is not None:
            if submission.submission_id in stored:
                continue
            stored.add(submission.submission_id)
        fresh.append(submission)
    return fresh


def _insert_or_nothing(connection: Connection, table: Table, key: Iterable[str]) -> Insert:
    """An insert that leaves a row conflicting on ``key`` alone, in the connection's dialect."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement: Any = dialect.insert(table)
    result: Insert = statement.on_conflict_do_nothing(index_elements=list(key))
    return result


def _row(cluster_id: ClusterId, received_at: datetime, submission: Submission) -> dict[str, Any]:
    return {
        "cluster_id": cluster_id,
        "received_at": received_at,
        "day": submission.day,
        "product_id": submission.product_id,
        "product_name": submission.product_name,
        "metric": submission.metric,
        "metric_value": str(submission.value),
        "aggregation_policy": submission.policy.value,
        "cloudpak_id": submission.cloudpak_id,
        "cloudpak_name": submission.cloudpak_name,
        "cloudpak_metric": submission.cloudpak_metric,
        "conversion": str(submission.ratio),
        "submission_id": submission.submission_id,
    }


def _submission(row: Any) -> Submission:
    return Submission(
        day=row.day,
        product_id=row.product_id,
        product_name=row.product_name,
        metric=row.metric,
        value=Decimal(row.metric_value),
        policy=AggregationPolicy(row.aggregation_policy),
        cloudpak_id=row.cloudpak_id,
        cloudpak_name=row.cloudpak_name,
        cloudpak_metric=row.cloudpak_metric,
        ratio=stored_ratio(row.conversion),
        submission_id=row.submission_id,
    )


__all__ = [
    "PolicyConflictError",
    "ReceivedSubmission",
    "raise_uploaded_days",
    "received_submissions",
    "record_uploads",
    "uploaded_product_keys",
]
