"""The days a push carries, read from a real store (SQLite and PostgreSQL): every day of the
period listed as a ``fleet.push_format.PushDay``, daily peaks read through the row
specifications, uploads, coverage."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from license_service.fleet.push_format import (
    ClusterIdentity,
    Coverage,
    PushUpload,
    decode_push,
    encode_push,
)
from license_service.metering.periods import DatePeriod
from license_service.metering.uploads import AggregationPolicy, Submission
from license_service.reporting.push_days import push_days
from license_service.signing.keys import SigningKey
from license_service.store.database import Database
from license_service.store.uploads import record_uploads
from tests.store.sample_builders import CLUSTER, at, bundled, day, product, service, store

PERIOD = DatePeriod(day("2026-11-01"), day("2026-11-04"))
NOW = at("2026-11-04", "10:00")
CLUSTER_IDENTITY = ClusterIdentity(CLUSTER, "cluster a", "1.2.3")


def test_every_day_is_listed_with_its_daily_peaks_and_only_today_is_incomplete(
    db: Database, signing_key: SigningKey
) -> None:
    store(db, at("2026-11-02", "10:00"), product("api", 3), bundled("db2", 2), service("s1", 2))
    store(db, at("2026-11-02", "10:05"), product("api", 5), bundled("db2", 1), service("s1", 1))
    with db.read() as connection:
        days = push_days(connection, cluster_id=CLUSTER, period=PERIOD, now=NOW)

    assert [(d.date.isoformat(), d.complete) for d in days] == [
        ("2026-11-01", True),
        ("2026-11-02", True),
        ("2026-11-03", True),
        ("2026-11-04", False),
    ]
    for empty in (days[0], days[2]):
        assert (empty.products, empty.bundled_products, empty.services) == ((), (), ())
    assert days[1].products == (product("api", 5),)
    assert days[1].bundled_products == (bundled("db2", 2),)
    assert days[1].services == (service("s1", 2),)
    body = encode_push(CLUSTER_IDENTITY, days, key=signing_key, sent_at=NOW)
    assert decode_push(body).days == tuple(days)


def test_a_day_carries_the_samples_taken_and_expected_as_the_snapshot_counts_them(
    db: Database,
) -> None:
    for minute in range(0, 30, 5):
        store(db, at("2026-11-02", f"10:{minute:02d}"), product("api", 1))
    with db.read() as connection:
        days = push_days(connection, cluster_id=CLUSTER, period=PERIOD, now=NOW)
    # Sampling stopped at 10:25: the instants from 10:30 to midnight were missed.
    missed = (24 * 60 - (10 * 60 + 30)) // 5
    assert days[1].coverage == Coverage(samples_taken=6, samples_expected=6 + missed)
    # Nothing was expected before sampling began.
    assert days[0].coverage == Coverage(samples_taken=0, samples_expected=0)


def test_uploads_travel_with_the_day_they_belong_to(db: Database, signing_key: SigningKey) -> None:
    submission = Submission(
        day=day("2026-11-03"),
        product_id="api",
        product_name="Product api",
        metric="API_CALLS",
        value=Decimal("12.5"),
        submission_id="s-1",
    )
    with db.begin() as connection:
        record_uploads(
            connection,
            cluster_id=CLUSTER,
            received_at=at("2026-11-04", "09:00"),
            submissions=[submission],
        )
    with db.read() as connection:
        days = push_days(connection, cluster_id=CLUSTER, period=PERIOD, now=NOW)
    assert days[2].uploads == (
        PushUpload(
            received_at=at("2026-11-04", "09:00"),
            date=day("2026-11-03"),
            product_id="api",
            product_name="Product api",
            product_metric="API_CALLS",
            metric_value=Decimal("12.5"),
            aggregation_policy=AggregationPolicy.MAX,
            cloudpak_id="",
            submission_id="s-1",
        ),
    )
    assert days[2].products[0].quantity == 13
    # The Reporter reads back exactly what the sender read from the store.
    body = encode_push(CLUSTER_IDENTITY, days, key=signing_key, sent_at=NOW)
    assert decode_push(body).days == tuple(days)
    assert [d.uploads for d in days if d.date != day("2026-11-03")] == [(), (), ()]


def test_a_long_period_reads_every_day_once(db: Database) -> None:
    first = day("2026-10-01")
    for offset in range(0, 31, 3):
        store(db, at((first + timedelta(days=offset)).isoformat(), "12:00"), product("api", offset))
    period = DatePeriod(first, first + timedelta(days=30))
    with db.read() as connection:
        days = push_days(connection, cluster_id=CLUSTER, period=period, now=NOW)
    assert len(days) == 31
    quantities = [d.products[0].quantity if d.products else None for d in days]
    assert quantities == [offset if offset % 3 == 0 else None for offset in range(31)]


def test_an_upload_without_a_submission_id_has_an_empty_one_as_in_the_file(db: Database) -> None:
    submission = Submission(
        day=day("2026-11-03"),
        product_id="api",
        product_name="Product api",
        metric="API_CALLS",
        value=Decimal("2"),
    )
    with db.begin() as connection:
        record_uploads(
            connection, cluster_id=CLUSTER, received_at=at("2026-11-04"), submissions=[submission]
        )
    with db.read() as connection:
        days = push_days(connection, cluster_id=CLUSTER, period=PERIOD, now=NOW)
    assert days[2].uploads[0].submission_id == ""
