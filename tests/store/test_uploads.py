"""Uploaded values in the store (SPEC 10), on SQLite and PostgreSQL: kept, deduplicated,
one policy per product, and joined to the measured peaks of every report."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from license_service.metering.periods import DatePeriod
from license_service.metering.ratios import parse_ratio
from license_service.metering.uploads import AggregationPolicy, Submission
from license_service.metering.usage_rows import BUNDLED_PRODUCT_ROWS, PRODUCT_ROWS
from license_service.store.daily_rows import rows_by_day
from license_service.store.database import Database
from license_service.store.period_peaks import period_peaks
from license_service.store.uploads import (
    PolicyConflictError,
    received_submissions,
    record_uploads,
)
from tests.store.sample_builders import CLUSTER, at, bundled, day, product, store

NOVEMBER = DatePeriod(day("2026-11-01"), day("2026-11-30"))


def upload(
    db: Database,
    *submissions: Submission,
    received: str = "2026-11-30",
) -> int:
    with db.begin() as connection:
        return record_uploads(
            connection,
            cluster_id=CLUSTER,
            received_at=at(received, "12:00"),
            submissions=submissions,
        )


def item(
    on: str,
    value: str,
    *,
    product_id: str = "api",
    policy: AggregationPolicy = AggregationPolicy.MAX,
    submission_id: str | None = None,
    cloudpak_id: str = "",
    ratio: str = "1:1",
    metric: str = "API_CALLS",
) -> Submission:
    return Submission(
        day=date.fromisoformat(on),
        product_id=product_id,
        product_name=f"Product {product_id}",
        metric=metric,
        value=Decimal(value),
        policy=policy,
        cloudpak_id=cloudpak_id,
        cloudpak_name="Cloud Pak for Data" if cloudpak_id else "",
        cloudpak_metric=metric if cloudpak_id else "",
        ratio=parse_ratio(ratio),
        submission_id=submission_id,
    )


def products(db: Database, period: DatePeriod = NOVEMBER) -> list[tuple[str, int, str]]:
    with db.read() as connection:
        peaks = period_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=period)
    return [(p.row.id, p.row.quantity, str(p.peak_date)) for p in peaks]


def test_a_stand_alone_upload_is_a_product_of_its_period(db: Database) -> None:
    upload(db, item("2026-11-10", "40"), item("2026-11-12", "25"))
    assert products(db) == [("api", 40, "2026-11-10")]


def test_a_back_dated_upload_raises_an_old_days_peak_and_the_peak_date(db: Database) -> None:
    store(db, at("2026-11-03", "10:00"), product("api", 5, metric="API_CALLS"))
    store(db, at("2026-11-20", "10:00"), product("api", 8, metric="API_CALLS"))
    assert products(db) == [("api", 8, "2026-11-20")]
    upload(db, item("2026-11-03", "11"))
    assert products(db) == [("api", 11, "2026-11-03")]


def test_a_resend_with_the_same_submission_id_is_counted_once(db: Database) -> None:
    add = AggregationPolicy.ADD
    assert upload(db, item("2026-11-10", "4", policy=add, submission_id="s-1")) == 1
    assert upload(db, item("2026-11-10", "4", policy=add, submission_id="s-1")) == 0
    upload(
        db,
        item("2026-11-10", "4", policy=add, submission_id="s-2"),
        item("2026-11-10", "4", policy=add, submission_id="s-2"),
    )
    assert products(db) == [("api", 8, "2026-11-10")]


def test_another_policy_for_the_same_product_and_metric_is_refused(db: Database) -> None:
    upload(db, item("2026-11-10", "4", policy=AggregationPolicy.ADD))
    with pytest.raises(PolicyConflictError, match="keeps the policy ADD of its first upload"):
        upload(db, item("2026-11-11", "1"), item("2026-11-11", "9", product_id="other"))
    # Nothing of the refused batch is kept, not even the other product.
    assert products(db) == [("api", 4, "2026-11-10")]


def test_two_policies_within_one_batch_are_refused(db: Database) -> None:
    with pytest.raises(PolicyConflictError, match="item 1, field aggregationPolicy"):
        upload(db, item("2026-11-10", "4"), item("2026-11-10", "4", policy=AggregationPolicy.ADD))
    assert products(db) == []


def test_a_cloud_pak_mixing_measured_and_uploaded_products_rounds_up_once(db: Database) -> None:
    # Measured: db2 3 cores at 2:1 = 1.5 Cloud Pak units; the Cloud Pak's peak is 2.
    store(
        db,
        at("2026-11-05", "10:00"),
        bundled("db2", 3, ratio="2:1"),
        product("cp4d", 2, name="Cloud Pak for Data"),
    )
    # Uploaded: 1 API core at 2:1 = 0.5: the day is ceil(1.5 + 0.5) = 2, not 2 + 1 = 3.
    upload(
        db,
        item("2026-11-05", "1", cloudpak_id="cp4d", ratio="2:1", metric="VIRTUAL_PROCESSOR_CORE"),
    )
    assert products(db) == [("cp4d", 2, "2026-11-05")]
    with db.read() as connection:
        rows = period_peaks(connection, BUNDLED_PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER)
    assert [(p.row.product_id, p.row.converted_quantity) for p in rows] == [
        ("api", 0.5),
        ("db2", 1.5),
    ]


def test_daily_rows_carry_uploaded_values_on_their_days(db: Database) -> None:
    store(db, at("2026-11-05", "10:00"), product("mq", 4))
    upload(db, item("2026-11-04", "7"), item("2026-11-05", "2"))
    with db.read() as connection:
        days = [
            (text, [(row[1], row[3]) for row in rows])
            for text, rows in rows_by_day(
                connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER
            )
        ]
    assert days == [("2026-11-04", [("api", 7)]), ("2026-11-05", [("api", 2), ("mq", 4)])]


def test_received_submissions_are_kept_as_sent(db: Database) -> None:
    upload(db, item("2026-11-10", "0.25", submission_id="s-9"))
    with db.read() as connection:
        (kept,) = received_submissions(
            connection, cluster_id=CLUSTER, first=day("2026-11-01"), last=day("2026-11-30")
        )
    assert kept.submission.value == Decimal("0.25")
    assert kept.submission.submission_id == "s-9"
    assert kept.received_at == at("2026-11-30", "12:00")


def test_a_later_sample_raises_a_cloud_pak_with_uploads_by_its_own_sum_plus_the_uploads(
    db: Database,
) -> None:
    vpc = "VIRTUAL_PROCESSOR_CORE"
    upload(db, item("2026-11-05", "1", cloudpak_id="cp4d", ratio="2:1", metric=vpc))
    assert products(db) == [("cp4d", 1, "2026-11-05")]  # ceil(0.5): no sample yet
    store(
        db,
        at("2026-11-05", "10:00"),
        bundled("db2", 3, ratio="2:1"),
        product("cp4d", 2, name="Cloud Pak for Data"),
    )
    assert products(db) == [("cp4d", 2, "2026-11-05")]  # ceil(1.5 + 0.5)
    store(
        db,
        at("2026-11-05", "10:05"),
        bundled("db2", 5, ratio="2:1"),
        product("cp4d", 3, name="Cloud Pak for Data"),
    )
    assert products(db) == [("cp4d", 3, "2026-11-05")]  # ceil(2.5 + 0.5)
    store(
        db,
        at("2026-11-05", "10:10"),
        bundled("db2", 4, ratio="2:1"),
        product("cp4d", 2, name="Cloud Pak for Data"),
    )
    assert products(db) == [("cp4d", 3, "2026-11-05")]  # the day's highest stays


def test_an_add_monthly_back_dated_upload_raises_the_later_days_of_its_month(db: Database) -> None:
    monthly = AggregationPolicy.ADD_MONTHLY
    upload(db, item("2026-11-20", "10", policy=monthly), item("2026-11-25", "5", policy=monthly))
    assert products(db) == [("api", 15, "2026-11-25")]
    upload(db, item("2026-11-03", "7", policy=monthly))
    with db.read() as connection:
        days = [
            (text, rows[0][3])
            for text, rows in rows_by_day(
                connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER
            )
        ]
    assert days == [("2026-11-03", 7), ("2026-11-20", 17), ("2026-11-25", 22)]
