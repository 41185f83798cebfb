"""Upload items (SPEC 10): what is accepted, and a refusal naming index, field and fix."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from license_service.metering.upload_items import UploadItemError, upload_submissions
from license_service.metering.uploads import AggregationPolicy

TODAY = date(2026, 12, 6)
ITEM = {
    "productId": "api",
    "productName": "API Gateway",
    "productMetric": "API_CALLS",
    "metricValue": 12,
}


def parsed(body: Any) -> Any:
    return json.loads(json.dumps(body), parse_float=Decimal)


def test_one_object_with_the_required_fields_is_one_submission_of_today_by_max() -> None:
    (submission,) = upload_submissions(parsed(ITEM), today=TODAY)
    assert submission.day == TODAY
    assert submission.policy is AggregationPolicy.MAX
    assert submission.value == 12
    assert submission.cloudpak_id == ""


def test_a_bundled_item_takes_the_cloud_pak_metric_and_ratio() -> None:
    item = {
        **ITEM,
        "cloudpakId": "cp4i",
        "cloudpakName": "CP4I",
        "productCloudpakRatio": "2:1",
        "logDate": "2026-11-30",
        "metricValue": 0.1,
        "submissionId": "s-1",
    }
    (submission,) = upload_submissions(parsed(item), today=TODAY)
    assert submission.cloudpak_metric == "API_CALLS"
    assert str(submission.ratio) == "2:1"
    assert submission.day == date(2026, 11, 30)
    assert submission.value == Decimal("0.1")
    assert submission.submission_id == "s-1"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            {**ITEM, "aggregationPolicy": "SUM"},
            "item 0, field aggregationPolicy: 'SUM' is not a policy; use MAX, ADD, ADD_MONTHLY",
            id="bad-policy",
        ),
        pytest.param(
            {**ITEM, "metricValue": -1},
            "item 0, field metricValue: -1 is negative",
            id="negative-value",
        ),
        pytest.param(
            {**ITEM, "metricValue": "12"},
            "item 0, field metricValue: is a text, not a number",
            id="text-value",
        ),
        pytest.param(
            {**ITEM, "date": "2026-12-07"},
            "item 0, field date: 2026-12-07 is in the future",
            id="future-date",
        ),
        pytest.param(
            {**ITEM, "date": "2024-12-05"},
            "item 0, field date: 2024-12-05 is before the 731 days",
            id="too-old",
        ),
        pytest.param(
            {**ITEM, "date": "2026-W49-1"}, "is not a day; write YYYY-MM-DD", id="week-date"
        ),
        pytest.param(
            {**ITEM, "productMetric": ""},
            "item 0, field productMetric: is required",
            id="empty-metric",
        ),
        pytest.param(
            {**ITEM, "metricvalue": 1},
            "item 0, field metricvalue: is not a field of an upload",
            id="misspelt-field",
        ),
        pytest.param(
            {**ITEM, "cloudpakId": "cp4i"},
            "item 0, field cloudpakName: is required with cloudpakId",
            id="cloudpak-without-name",
        ),
        pytest.param(
            {**ITEM, "productCloudpakRatio": "2:1"},
            "field productCloudpakRatio: is given without cloudpakId",
            id="ratio-alone",
        ),
        pytest.param(
            [ITEM, {**ITEM, "productName": "a\x1bb"}],
            "item 1, field productName: character '\\x1b' (U+001B ESCAPE)",
            id="control-character",
        ),
        pytest.param(
            [ITEM] * 1_001, "the array has 1,001 items, more than the 1,000", id="1001-items"
        ),
        pytest.param([], "the array is empty", id="empty-array"),
        pytest.param([ITEM, 3], "item 1: is a number, not an object", id="not-an-object"),
    ],
)
def test_a_bad_item_is_refused_with_its_index_field_and_fix(body: Any, expected: str) -> None:
    with pytest.raises(UploadItemError) as refused:
        upload_submissions(parsed(body), today=TODAY)
    assert expected in str(refused.value)


def test_the_oldest_day_accepted_is_the_first_of_the_731_days_ending_today() -> None:
    (submission,) = upload_submissions(parsed({**ITEM, "date": "2024-12-06"}), today=TODAY)
    assert submission.day == date(2024, 12, 6)


def test_one_thousand_items_are_accepted() -> None:
    assert len(upload_submissions(parsed([ITEM] * 1_000), today=TODAY)) == 1_000
