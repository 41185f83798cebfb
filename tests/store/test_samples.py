"""Storing samples: raw rows, daily peaks and coverage together, in the caller's transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Connection, func, select

from license_service.errors import StorageError
from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.metering.usage import Measurement
from license_service.metering.usage_rows import (
    BUNDLED_PRODUCT_ROWS,
    PRODUCT_ROWS,
    SERVICE_ROWS,
    ServiceUsage,
)
from license_service.store.database import Database
from license_service.store.samples import StoredSample, latest_sample, record_sample
from license_service.store.sampling_gaps import sampling_summary
from license_service.store.tables import metadata, sample_bundled_products, sample_products
from tests.store.daily_peaks import daily_peaks
from tests.store.sample_builders import (
    CLUSTER,
    INTERVAL,
    OTHER_CLUSTER,
    at,
    bundled,
    day,
    measurement,
    product,
    service,
    store,
)

NOVEMBER = DatePeriod(day("2026-11-01"), day("2026-11-30"))


def row_counts(connection: Connection) -> dict[str, int]:
    return {
        name: connection.scalar(select(func.count()).select_from(table)) or 0
        for name, table in metadata.tables.items()
    }


def test_a_sample_stores_its_raw_rows_and_its_daily_peaks(db: Database) -> None:
    store(
        db,
        at("2026-11-02", "10:00"),
        product("db2", 4),
        bundled("mq", 3, ratio="2:1"),
        service("api", 2, product_id="mq"),
    )

    with db.begin() as connection:
        raw = connection.execute(
            select(sample_products.c.product_id, sample_products.c.quantity)
        ).all()
        raw_bundled = connection.execute(
            select(
                sample_bundled_products.c.conversion, sample_bundled_products.c.measured_quantity
            )
        ).all()
        products = list(daily_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER))
        bundles = list(
            daily_peaks(connection, BUNDLED_PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER)
        )
        services = list(daily_peaks(connection, SERVICE_ROWS, cluster_id=CLUSTER, period=NOVEMBER))

    assert raw == [("db2", 4)]
    assert raw_bundled == [("2:1", 3)]
    assert [(p.day, p.row.id, p.row.quantity) for p in products] == [(day("2026-11-02"), "db2", 4)]
    assert [
        (b.row.product_id, b.row.measured_quantity, str(b.row.conversion)) for b in bundles
    ] == [("mq", 3, "2:1")]
    assert [(s.row.service_id, s.row.value) for s in services] == [("api", 2)]


def test_the_daily_peak_is_the_highest_sample_of_the_day(db: Database) -> None:
    for minute, quantity in (("10:00", 4), ("10:05", 9), ("10:10", 6)):
        store(db, at("2026-11-02", minute), product("db2", quantity), bundled("mq", quantity))

    with db.begin() as connection:
        products = list(daily_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER))
        bundles = list(
            daily_peaks(connection, BUNDLED_PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER)
        )

    assert [p.row.quantity for p in products] == [9]
    assert [b.row.measured_quantity for b in bundles] == [9]


def test_names_of_a_day_come_from_its_latest_sample_whatever_the_storing_order(
    db: Database,
) -> None:
    store(db, at("2026-11-02", "18:00"), product("db2", 1, name="Db2 Warehouse"))
    store(db, at("2026-11-02", "09:00"), product("db2", 8, name="Db2 (old name)"))

    with db.begin() as connection:
        (peak,) = daily_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER)

    assert (peak.row.name, peak.row.quantity) == ("Db2 Warehouse", 8)


def test_days_are_utc_calendar_days(db: Database) -> None:
    # 23:30 at UTC-01:00 is 00:30 UTC the next day.
    west = timezone(timedelta(hours=-1))
    store(db, datetime(2026, 11, 2, 23, 30, tzinfo=west), product("db2", 5))

    with db.begin() as connection:
        (peak,) = daily_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER)

    assert peak.day == day("2026-11-03")


def store_then_fail(db: Database) -> None:
    with db.begin() as connection:
        record_sample(
            connection,
            cluster_id=CLUSTER,
            taken_at=at("2026-11-02", "10:00"),
            measurement=measurement(product("db2", 4), bundled("mq", 2), service("api", 1)),
            interval_seconds=INTERVAL,
        )
        raise RuntimeError("the caller failed after storing")


def test_record_sample_is_atomic_with_the_callers_transaction(db: Database) -> None:
    with pytest.raises(RuntimeError, match="after storing"):
        store_then_fail(db)

    with db.begin() as connection:
        assert set(row_counts(connection).values()) == {0}


def test_a_sample_failing_half_way_leaves_nothing_behind(db: Database) -> None:
    broken: Any = None  # a value the database refuses, after the first rows are written
    bad_service = ServiceUsage("cp4d", "VPC", "Mq", "mq", "VPC", "Api", "api", broken)

    with pytest.raises(StorageError), db.begin() as connection:
        record_sample(
            connection,
            cluster_id=CLUSTER,
            taken_at=at("2026-11-02", "10:00"),
            measurement=measurement(product("db2", 4), bundled("mq", 2), bad_service),
            interval_seconds=INTERVAL,
        )

    with db.begin() as connection:
        assert set(row_counts(connection).values()) == {0}


def test_a_second_sample_at_the_same_instant_is_refused(db: Database) -> None:
    store(db, at("2026-11-02", "10:00"), product("db2", 4))

    with pytest.raises(StorageError, match="already stored"):
        store(db, at("2026-11-02", "10:00"), product("db2", 7))

    with db.begin() as connection:
        (peak,) = daily_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER)
    assert peak.row.quantity == 4


def test_a_naive_sample_time_is_refused(db: Database) -> None:
    with pytest.raises(StorageError, match="no time zone"):
        store(db, datetime(2026, 11, 2, 10, 0), product("db2", 4))


def test_a_non_positive_interval_is_refused(db: Database) -> None:
    with pytest.raises(StorageError, match="interval 0"):
        store(db, at("2026-11-02", "10:00"), product("db2", 4), interval_seconds=0)


def test_a_key_listed_twice_in_one_measurement_keeps_the_higher_value(db: Database) -> None:
    store(db, at("2026-11-02", "10:00"), product("cp4d", 3), product("cp4d", 5))

    with db.begin() as connection:
        (peak,) = daily_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER)
        raw = connection.scalars(select(sample_products.c.quantity)).all()

    assert peak.row.quantity == 5
    assert raw == [5]


def test_a_sample_of_a_thousand_products_is_stored_whole(db: Database) -> None:
    products = [product(f"p{index:04}", index) for index in range(1000)]
    bundles = [bundled(f"b{index:04}", index, ratio="3:2") for index in range(1000)]

    store(db, at("2026-11-02", "10:00"), *products, *bundles)
    store(db, at("2026-11-02", "10:05"), *products, *bundles)

    with db.begin() as connection:
        days = list(daily_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER))
        summary = sampling_summary(
            connection,
            cluster_id=CLUSTER,
            start=at("2026-11-02"),
            end=at("2026-11-03"),
        )
        counts = row_counts(connection)
    assert [(row.row.id, row.row.quantity) for row in days] == [
        (f"p{i:04}", i) for i in range(1000)
    ]
    assert counts["sample_products"] == counts["sample_bundled_products"] == 2000
    assert counts["bundled_product_daily_peaks"] == 1000
    assert summary.samples_taken == 2


def test_instants_read_back_are_utc(db: Database) -> None:
    tokyo = timezone(timedelta(hours=9))
    store(db, datetime(2026, 11, 2, 19, 0, tzinfo=tokyo), product("db2", 1))

    with db.begin() as connection:
        (taken_at,) = connection.scalars(select(metadata.tables["samples"].c.taken_at)).all()

    assert taken_at == datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    assert taken_at.utcoffset() == timedelta(0)


def test_the_latest_sample_reads_back_as_it_was_measured(db: Database) -> None:
    stored = measurement(
        product("db2", 4), product("cp4d", 2), bundled("mq", 3, ratio="2:1"), service("api", 1)
    )
    store(db, at("2026-11-02", "10:00"), product("db2", 99))
    store(
        db, at("2026-11-02", "10:05"), *stored.products, *stored.bundled_products, *stored.services
    )
    store(db, at("2026-11-02", "10:10"), product("db2", 7), cluster_id=OTHER_CLUSTER)

    with db.begin() as connection:
        latest = latest_sample(connection, cluster_id=CLUSTER)
        nothing = latest_sample(connection, cluster_id=ClusterId("never-sampled"))

    assert latest == StoredSample(
        at("2026-11-02", "10:05"),
        INTERVAL,
        Measurement(
            products=tuple(sorted(stored.products)),
            bundled_products=stored.bundled_products,
            services=stored.services,
        ),
    )
    assert nothing is None
