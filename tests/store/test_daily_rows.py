"""Daily rows: one row per key per day with data, by day then in API order, streamed."""

from __future__ import annotations

from fractions import Fraction

import pytest

import license_service.store.daily_rows as daily_rows_module
from license_service.metering.periods import DatePeriod
from license_service.metering.ratios import parse_ratio
from license_service.metering.usage_rows import (
    BUNDLED_PRODUCT_ROWS,
    PRODUCT_ROWS,
    SERVICE_ROWS,
    BundledProductUsage,
    ProductUsage,
)
from license_service.store.database import Database
from tests.store.daily_peaks import DailyPeak, daily_peaks
from tests.store.sample_builders import CLUSTER, PVU, VPC, at, bundled, day, product, service, store

NOVEMBER = DatePeriod(day("2026-11-01"), day("2026-11-30"))


def test_rows_come_by_day_then_by_name_id_and_metric(db: Database) -> None:
    store(
        db, at("2026-11-03", "10:00"), product("b", 2, name="Beta"), product("a", 3, name="Alpha")
    )
    store(
        db, at("2026-11-02", "10:00"), product("b", 5, name="Beta"), product("a", 1, name="Alpha")
    )
    store(db, at("2026-11-02", "11:00"), product("a", 4, name="Alpha", metric=PVU))

    with db.begin() as connection:
        rows = list(daily_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER))

    assert rows == [
        DailyPeak(day("2026-11-02"), ProductUsage("Alpha", "a", PVU, 4)),
        DailyPeak(day("2026-11-02"), ProductUsage("Alpha", "a", VPC, 1)),
        DailyPeak(day("2026-11-02"), ProductUsage("Beta", "b", VPC, 5)),
        DailyPeak(day("2026-11-03"), ProductUsage("Alpha", "a", VPC, 3)),
        DailyPeak(day("2026-11-03"), ProductUsage("Beta", "b", VPC, 2)),
    ]


def test_days_without_samples_have_no_rows(db: Database) -> None:
    store(db, at("2026-11-02", "10:00"), product("db2", 1))
    store(db, at("2026-11-05", "10:00"), product("db2", 0))

    with db.begin() as connection:
        rows = list(daily_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER))

    assert [(row.day, row.row.quantity) for row in rows] == [
        (day("2026-11-02"), 1),
        (day("2026-11-05"), 0),
    ]


def test_each_day_keeps_its_own_names(db: Database) -> None:
    store(db, at("2026-11-02", "10:00"), product("db2", 1, name="Db2"))
    store(db, at("2026-11-03", "10:00"), product("db2", 1, name="Db2 Warehouse"))

    with db.begin() as connection:
        rows = list(daily_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER))

    assert [row.row.name for row in rows] == ["Db2", "Db2 Warehouse"]


def test_bundled_days_carry_the_conversion_and_the_exact_converted_quantity(db: Database) -> None:
    store(db, at("2026-11-02", "10:00"), bundled("mq", 5, ratio="4:1"))

    with db.begin() as connection:
        rows = list(
            daily_peaks(connection, BUNDLED_PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER)
        )

    assert rows == [
        DailyPeak(
            day=day("2026-11-02"),
            row=BundledProductUsage(
                product_name="Product mq",
                product_id="mq",
                cloudpak_id="cp4d",
                cloudpak_name="Cloud Pak for Data",
                cloudpak_version="4.8",
                cloudpak_metric=VPC,
                metric=VPC,
                measured_quantity=5,
                conversion=parse_ratio("4:1"),
            ),
        )
    ]
    assert rows[0].row.converted_quantity == Fraction(5, 4)


def test_the_metric_filter_applies_to_daily_rows(db: Database) -> None:
    store(
        db,
        at("2026-11-02", "10:00"),
        product("db2", 4),
        product("db2", 280, metric=PVU),
        bundled("mq", 2),
        bundled("mq", 140, metric=PVU),
        service("api", 1),
        service("api", 70, metric=PVU),
    )

    with db.begin() as connection:
        products = list(
            daily_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER, metric=PVU)
        )
        bundles = list(
            daily_peaks(
                connection, BUNDLED_PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER, metric=PVU
            )
        )
        services = list(
            daily_peaks(connection, SERVICE_ROWS, cluster_id=CLUSTER, period=NOVEMBER, metric=PVU)
        )

    assert [row.row.quantity for row in products] == [280]
    assert [row.row.measured_quantity for row in bundles] == [140]
    assert [row.row.value for row in services] == [70]


def test_rows_spread_over_many_batches_come_out_whole_and_in_order(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(daily_rows_module, "BATCH_ROWS", 2)
    for date_text in ("2026-11-02", "2026-11-03", "2026-11-04"):
        store(db, at(date_text, "10:00"), *(product(f"p{index}", index) for index in range(5)))

    with db.begin() as connection:
        rows = [
            (row.day.day, row.row.id)
            for row in daily_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER)
        ]

    assert rows == [(date, f"p{index}") for date in (2, 3, 4) for index in range(5)]


@pytest.mark.postgres
def test_postgresql_streams_daily_rows_through_a_server_side_cursor(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(daily_rows_module, "BATCH_ROWS", 2)
    db = Database.open(postgres_url)
    try:
        for date_text in ("2026-11-02", "2026-11-03", "2026-11-04"):
            store(db, at(date_text, "10:00"), product("a", 1), product("b", 2))
        with db.begin() as connection:
            rows = daily_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER)
            first = next(rows)
            open_cursors = connection.exec_driver_sql("SELECT count(*) FROM pg_cursors").scalar()
            rest = list(rows)
    finally:
        db.dispose()

    # The first row came while later days were still waiting on the server.
    assert open_cursors == 1
    assert [first.row.id, *(row.row.id for row in rest)] == ["a", "b"] * 3
