"""Worked examples of SPEC 10's aggregation policies and how uploads join measured usage."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from license_service.metering.cloudpak_sums import cloudpak_value, converted_sums
from license_service.metering.ratios import parse_ratio
from license_service.metering.uploads import (
    AggregationPolicy,
    Submission,
    UploadedDay,
    uploaded_days,
)
from license_service.metering.usage_rows import BundledProductUsage

MAX, ADD, ADD_MONTHLY = AggregationPolicy


def sent(day: str, value: str, policy: AggregationPolicy, **fields: str) -> Submission:
    cloudpak = {"cloudpak_name": "Cloud Pak", "cloudpak_metric": "API_CALLS"}
    extra = {**cloudpak, **fields} if "cloudpak_id" in fields else fields
    ratio = parse_ratio(extra.pop("ratio", None))
    return Submission(
        day=date.fromisoformat(day),
        product_id="api",
        product_name="API Gateway",
        metric="API_CALLS",
        value=Decimal(value),
        policy=policy,
        ratio=ratio,
        **extra,
    )


def values(days: dict[date, UploadedDay]) -> dict[str, int]:
    return {str(day): usage.products[0].quantity for day, usage in days.items()}


# Days across the November/December boundary; the month's first day is 2026-12-01.
SENT = [
    ("2026-11-29", "10"),
    ("2026-11-30", "5"),
    ("2026-11-30", "7"),
    ("2026-12-01", "3"),
    ("2026-12-02", "4"),
    ("2026-12-02", "1"),
]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        pytest.param(
            MAX,
            {"2026-11-29": 10, "2026-11-30": 7, "2026-12-01": 3, "2026-12-02": 4},
            id="max-keeps-the-highest-of-each-day",
        ),
        pytest.param(
            ADD,
            {"2026-11-29": 10, "2026-11-30": 12, "2026-12-01": 3, "2026-12-02": 5},
            id="add-sums-each-day",
        ),
        pytest.param(
            ADD_MONTHLY,
            {"2026-11-29": 10, "2026-11-30": 22, "2026-12-01": 3, "2026-12-02": 8},
            id="add-monthly-runs-a-total-that-starts-again-on-the-first",
        ),
    ],
)
def test_each_policy_across_a_month_boundary(
    policy: AggregationPolicy, expected: dict[str, int]
) -> None:
    submissions = [sent(day, value, policy) for day, value in SENT]
    found = uploaded_days(submissions, first=date(2026, 11, 1), last=date(2026, 12, 31))
    assert values(found) == expected


def test_add_monthly_counts_earlier_days_of_the_month_before_the_period() -> None:
    submissions = [sent("2026-12-02", "4", ADD_MONTHLY), sent("2026-12-10", "6", ADD_MONTHLY)]
    found = uploaded_days(submissions, first=date(2026, 12, 5), last=date(2026, 12, 31))
    assert values(found) == {"2026-12-10": 10}


def test_a_fractional_day_value_is_rounded_up_once_for_the_day() -> None:
    submissions = [sent("2026-12-02", "0.4", ADD), sent("2026-12-02", "0.4", ADD)]
    found = uploaded_days(submissions, first=date(2026, 12, 1), last=date(2026, 12, 31))
    assert values(found) == {"2026-12-02": 1}


def test_names_follow_the_latest_submission_received() -> None:
    first = sent("2026-12-02", "1", MAX)
    renamed = Submission(**{**_fields(first), "product_name": "API Connect"})
    found = uploaded_days([first, renamed], first=date(2026, 12, 1), last=date(2026, 12, 31))
    assert found[date(2026, 12, 2)].products[0].name == "API Connect"


def _fields(submission: Submission) -> dict[str, object]:
    return {name: getattr(submission, name) for name in Submission.__dataclass_fields__}


def _bundled(product_id: str, measured: int, ratio: str) -> BundledProductUsage:
    return BundledProductUsage(
        f"Product {product_id}",
        product_id,
        "cp4i",
        "Cloud Pak for Integration",
        "",
        "VPC",
        "VPC",
        measured,
        parse_ratio(ratio),
    )


def test_a_cloud_pak_adds_uploaded_converted_values_to_the_measured_sum_then_rounds_once() -> None:
    # Measured: mq 3 cores at 2:1 -> 1.5; uploaded: ace 1 core at 2:1 -> 0.5.
    uploaded = converted_sums([_bundled("ace", 1, "2:1")])
    assert uploaded == {("cp4i", "VPC"): Fraction(1, 2)}
    measured = converted_sums([_bundled("mq", 3, "2:1")])
    value = cloudpak_value(
        "VPC", measured=measured[("cp4i", "VPC")], uploaded=uploaded[("cp4i", "VPC")]
    )
    assert value == 2  # one round-up: ceil(1.5 + 0.5), not ceil(1.5) + ceil(0.5) = 3


def test_a_free_cloud_pak_counts_zero() -> None:
    assert cloudpak_value("FREE", measured=Fraction(3), uploaded=Fraction(5)) == 0
