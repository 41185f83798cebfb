"""Uploads in the audit snapshot (SPEC 10): ``uploads_<s>.csv`` lists what was sent, and the
uploaded values join the daily and period files, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from license_service.metering.cluster_view import ClusterId
from license_service.metering.ratios import parse_ratio
from license_service.metering.uploads import AggregationPolicy, Submission
from license_service.signing.keys import SigningKey
from license_service.store.database import Database
from license_service.store.uploads import record_uploads
from tests.audit.conftest import entries, snapshot_bytes
from tests.store.sample_builders import CLUSTER, at, bundled, product, store

SUFFIX = "2026-11-01_2026-11-03_cluster-a"


@pytest.fixture
def uploaded(db: Database) -> Database:
    """The store of ``db`` (both backends) with measured and uploaded usage of November."""
    store(db, at("2026-11-02", "10:00"), product("mq", 4), bundled("db2", 2))
    submissions = [
        Submission(date(2026, 11, 1), "api", "=API calls", "API_CALLS", Decimal("0.5"),
                   AggregationPolicy.ADD, submission_id="s-1"),
        Submission(date(2026, 11, 2), "api", "=API calls", "API_CALLS", Decimal(3),
                   AggregationPolicy.ADD, submission_id="s-2"),
        Submission(date(2026, 11, 2), "wxs", "WXS", "VIRTUAL_PROCESSOR_CORE", Decimal(5),
                   cloudpak_id="cp4d", cloudpak_name="Cloud Pak for Data",
                   cloudpak_metric="VIRTUAL_PROCESSOR_CORE", ratio=parse_ratio("2:1")),
        Submission(date(2026, 10, 31), "api", "=API calls", "API_CALLS", Decimal(9),
                   AggregationPolicy.ADD),
    ]  # fmt: skip
    with db.begin() as connection:
        record_uploads(
            connection,
            cluster_id=ClusterId(CLUSTER),
            received_at=at("2026-11-03", "08:30"),
            submissions=submissions,
        )
    return db


def lines(files: dict[str, bytes], prefix: str) -> list[str]:
    return files[f"{prefix}_{SUFFIX}.csv"].decode().splitlines()


def test_uploads_csv_lists_each_accepted_submission_of_the_period(
    uploaded: Database, signing_key: SigningKey
) -> None:
    files = entries(snapshot_bytes(uploaded, signing_key))
    assert lines(files, "uploads") == [
        "receivedAt,date,productId,productName,productMetric,metricValue,aggregationPolicy,"
        "cloudpakId,submissionId,clusterId",
        "2026-11-03T08:30:00Z,2026-11-01,api,'=API calls,API_CALLS,0.5,ADD,,s-1,cluster-a",
        "2026-11-03T08:30:00Z,2026-11-02,api,'=API calls,API_CALLS,3,ADD,,s-2,cluster-a",
        "2026-11-03T08:30:00Z,2026-11-02,wxs,WXS,VIRTUAL_PROCESSOR_CORE,5,MAX,cp4d,,cluster-a",
    ]


def test_daily_and_period_files_carry_the_uploaded_values(
    uploaded: Database, signing_key: SigningKey
) -> None:
    files = entries(snapshot_bytes(uploaded, signing_key))
    assert lines(files, "products_daily")[1:] == [
        "2026-11-01,'=API calls,api,API_CALLS,1,cluster-a",
        "2026-11-02,'=API calls,api,API_CALLS,3,cluster-a",
        # db2 measured 2 at 1:1, wxs uploaded 5 at 2:1 = 2.5: ceil(2 + 2.5) = 5.
        "2026-11-02,Cloud Pak for Data,cp4d,VIRTUAL_PROCESSOR_CORE,5,cluster-a",
        "2026-11-02,Product mq,mq,VIRTUAL_PROCESSOR_CORE,4,cluster-a",
    ]
    assert "wxs,cp4d,VIRTUAL_PROCESSOR_CORE,VIRTUAL_PROCESSOR_CORE,5,2:1,2.5" in (
        files[f"bundled_products_daily_{SUFFIX}.csv"].decode()
    )
    assert "'=API calls,api,API_CALLS,2026-11-02,3,cluster-a" in lines(files, "products")
    assert f"uploads_{SUFFIX}.csv" in files["checksum.txt"].decode()
