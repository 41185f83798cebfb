"""Uploaded usage in the store (SPEC 10): recording a batch, reading submissions back.

``record_uploads`` writes a request's submissions on the caller's connection, in the
caller's transaction, so a batch is stored whole or not at all (a crash mid-batch
leaves none of it). Each item is one row of ``metric_uploads``; a day's value is
computed on read (``metering.uploads``), so concurrent ``ADD`` uploads only insert and
never overwrite each other, on SQLite and PostgreSQL alike.

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
from license_service.metering.cluster_view import ClusterId
from license_service.metering.row_specs import stored_ratio
from license_service.metering.uploads import AggregationPolicy, Submission, month_start
from license_service.store.instants import utc_instant
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
    return len(rows)


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


def submissions_for_days(
    connection: Connection, *, cluster_id: ClusterId, first: date, last: date
) -> list[Submission]:
    """The submissions that make the day values of ``first`` to ``last``: from the first
    of ``first``'s month on (an ``ADD_MONTHLY`` total starts there), in the order received."""
    table = metric_uploads
    found = connection.execute(
        select(*(table.c[name] for name in _SUBMISSION_COLUMNS))
        .where(
            table.c.cluster_id == cluster_id,
            table.c.day >= month_start(first),
            table.c.day <= last,
        )
        .order_by(table.c.received_at, table.c.id)
    )
    return [_submission(row) for row in found]


def has_uploads(connection: Connection, *, cluster_id: ClusterId, first: date, last: date) -> bool:
    """Whether any submission of ``cluster_id`` is for a day from ``first`` to ``last``."""
    table = metric_uploads
    found = connection.execute(
        select(table.c.id)
        .where(table.c.cluster_id == cluster_id, table.c.day >= first, table.c.day <= last)
        .limit(1)
    ).first()
    return found is not None


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
    "has_uploads",
    "received_submissions",
    "record_uploads",
    "submissions_for_days",
    "uploaded_product_keys",
]
