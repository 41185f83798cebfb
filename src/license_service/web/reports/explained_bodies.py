"""The body of ``/usage_explained`` (SPEC 9): which kept breakdown answers, as JSON or CSV.

``explained_body`` runs in a worker thread: it finds the day (the one asked for, or
the day the product peaked in the default period: the whole cluster's, or with
``groupName`` the group's), reads the breakdown kept for it (the cluster's, or the
group's) and encodes it. When uploads (SPEC 10) raised the cluster's day above the
sample kept, the JSON adds ``uploadedQuantity`` (the day's value, as ``/products``
reports it) and the ``uploads`` making it; ``metricQuantity`` and the contributions
stay the measured sample's, so their arithmetic still closes. Valid parameters naming
nothing stored raise ``NoSuchDataError`` (404) with what to ask instead; a Cloud Pak,
or a bundled product counted towards several Cloud Paks without ``cloudpakId``, raise
``RequestError`` (400).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Final

from license_service.errors import NoSuchDataError, RequestError
from license_service.formats.csv_lines import csv_line, header_line
from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.metering.usage_explanations import (
    WHOLE_CLUSTER,
    contribution_cells,
    contribution_columns,
    explanation_json,
)
from license_service.store.database import Database
from license_service.store.uploads import ReceivedSubmission, RowDayUploads, row_day_uploads
from license_service.store.usage_explanations import (
    KeptExplanation,
    is_cloudpak,
    kept_explanations,
    peak_days,
)
from license_service.web.reports.explained_query import ExplainedQuery
from license_service.web.timestamps import utc_text

_LISTS: Final = "/products and /bundled_products list what was measured"


def explained_body(
    database: Database, *, cluster_id: ClusterId, query: ExplainedQuery, today: date
) -> bytes:
    """The answer to ``query``: the JSON document, or the contributions as CSV."""
    group_name = WHOLE_CLUSTER if query.group is None else query.group
    with database.read() as connection:
        day = query.day
        if day is None:
            period = DatePeriod.ending(today)
            own, bundled = peak_days(
                connection,
                cluster_id=cluster_id,
                period=period,
                product_id=query.product_id,
                metric=query.metric,
                group_name=group_name,
            )
            if query.cloudpak_id is not None:
                own = []
                bundled = [peak for peak in bundled if peak.cloudpak_id == query.cloudpak_id]
            peaks = own or bundled
            if not peaks:
                raise NoSuchDataError(
                    f"this productId has no usage in this metricName{_in(query)} from "
                    f"{period.first.isoformat()} to {period.last.isoformat()}: {_LISTS}"
                )
            if own and is_cloudpak(
                connection,
                cluster_id=cluster_id,
                period=period,
                cloudpak_id=query.product_id,
                metric=query.metric,
                group_name=group_name,
            ):
                raise _cloudpak_refusal()
            if len(peaks) > 1:
                raise _ambiguous(sorted(peak.cloudpak_id for peak in peaks))
            day = peaks[0].day
        kept = kept_explanations(
            connection,
            cluster_id=cluster_id,
            day=day,
            group_name=group_name,
            product_id=query.product_id,
            metric=query.metric,
        )
        chosen = _choose(kept, query, day=day)
        # Uploads count in the cluster's days only (SPEC 10), never in a group's.
        uploads = None
        if group_name == WHOLE_CLUSTER:
            uploads = row_day_uploads(
                connection, cluster_id=cluster_id, day=day, row=chosen.explanation.row
            )
    if uploads is not None and uploads.quantity <= chosen.explanation.metric_quantity:
        uploads = None  # the measured sample makes the day's value: it explains it alone
    return _csv(chosen) if query.format == "csv" else _json(chosen, uploads)


def _choose(kept: list[KeptExplanation], query: ExplainedQuery, *, day: date) -> KeptExplanation:
    if query.cloudpak_id is not None:
        kept = [k for k in kept if k.explanation.row.cloudpak_id == query.cloudpak_id]
    elif any(not k.explanation.row.cloudpak_id for k in kept):
        kept = [k for k in kept if not k.explanation.row.cloudpak_id]
    if not kept:
        raise NoSuchDataError(
            f"no breakdown is kept for this productId and metricName{_in(query)} on "
            f"{day.isoformat()}: "
            "breakdowns are kept from the first sample that reaches a day's peak (a Cloud "
            f"Pak's own row is explained through its bundled products); {_LISTS}"
        )
    if len(kept) > 1:
        raise _ambiguous(sorted(k.explanation.row.cloudpak_id for k in kept))
    return kept[0]


def _in(query: ExplainedQuery) -> str:
    """Where the answer was looked for: in the chargeback group asked for, or nowhere said."""
    return "" if query.group is None else " in this groupName"


def _ambiguous(cloudpaks: list[str]) -> RequestError:
    return RequestError(
        f"this product is counted towards {len(cloudpaks)} Cloud Paks ({', '.join(cloudpaks)}): "
        "add cloudpakId=<one of them> to choose the breakdown"
    )


def _cloudpak_refusal() -> RequestError:
    return RequestError(
        "this productId is a Cloud Pak: its usage is the sum of its bundled products' "
        "converted usage; explain each bundled product (productId as /bundled_products lists "
        "it, with cloudpakId)"
    )


def _json(kept: KeptExplanation, uploads: RowDayUploads | None) -> bytes:
    sample = {"date": kept.day.isoformat(), "sampleAt": utc_text(kept.sample_at)}
    document = explanation_json(kept.explanation, sample=sample)
    if uploads is not None:
        # The day's value came from uploads (higher than any sample): said beside the
        # measured breakdown, whose own arithmetic still closes.
        document["uploadedQuantity"] = uploads.quantity
        document["uploads"] = [_upload_json(received) for received in uploads.submissions]
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def _upload_json(received: ReceivedSubmission) -> dict[str, object]:
    submission = received.submission
    value = submission.value
    return {
        "date": submission.day.isoformat(),
        "receivedAt": utc_text(received.received_at),
        "metricValue": int(value) if value == value.to_integral_value() else float(value),
        "aggregationPolicy": submission.policy.value,
        "submissionId": submission.submission_id,
    }


def _csv(kept: KeptExplanation) -> bytes:
    metric = kept.explanation.row.metric
    lines = [header_line([api for _, api in contribution_columns(metric)])]
    lines.extend(
        csv_line(contribution_cells(c, metric=metric)) for c in kept.explanation.contributions
    )
    return b"".join(lines)
