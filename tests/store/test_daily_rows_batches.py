"""Daily rows by day: plain tuples, sorted in SQL as Python sorts, on every backend."""

from __future__ import annotations

import pytest

import license_service.store.daily_rows as daily_rows_module
from license_service.errors import StorageError
from license_service.metering.periods import DatePeriod
from license_service.metering.usage_rows import BUNDLED_PRODUCT_ROWS, PRODUCT_ROWS, SERVICE_ROWS
from license_service.store.daily_rows import rows_by_day
from license_service.store.database import Database
from tests.store.sample_builders import CLUSTER, PVU, VPC, at, bundled, day, product, service, store

NOVEMBER = DatePeriod(day("2026-11-01"), day("2026-11-30"))
# Orders that differ between byte order and a linguistic collation, or case folding.
NAMES = (
    "b",
    "B",
    "a b",
    "ab",
    "Ab",
    "Äb",
    "éclair",
    "z",
    "İ",
    "ẞ",
    "製品",
    "📦",
    "-x",
    "=y",
    " space",
)


def test_rows_are_tuples_with_the_day_as_text_in_pythons_order(db: Database) -> None:
    store(
        db,
        at("2026-11-02", "10:00"),
        *(product(f"id{index}", index, name=name) for index, name in enumerate(NAMES)),
        product("id0", 7, name="b", metric=PVU),
    )
    store(db, at("2026-11-01", "10:00"), product("late", 1, name="zz"))

    with db.read() as connection:
        days = list(rows_by_day(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER))

    assert [day for day, _ in days] == ["2026-11-01", "2026-11-02"]
    assert days[0][1] == [("zz", "late", VPC, 1)]
    rows = days[1][1]
    assert all(type(row) is tuple for row in rows)
    assert rows == sorted(rows)
    assert [row[0] for row in rows] == sorted([*NAMES, "b"])
    assert ("b", "id0", PVU, 7) in rows


def test_bundled_rows_tied_before_the_conversion_come_in_the_ratios_order(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """By text 10:1 < 2:1 < 3:1; by ratio 2:1 < 3:1 < 10:1 (PostgreSQL: batches of two)."""
    monkeypatch.setattr(daily_rows_module, "BATCH_ROWS", 2)
    store(
        db,
        at("2026-11-02", "10:00"),
        *(bundled("ace", 6, ratio=ratio) for ratio in ("10:1", "2:1", "3:1", "1.5:1")),
        bundled("acf", 6, ratio="10:1"),
        bundled("acf", 6, ratio="2:1"),
        bundled("acf", 5, ratio="3:1"),
    )

    with db.read() as connection:
        rows = [
            (row[1], row[7], row[8])
            for _, day_rows in rows_by_day(
                connection, BUNDLED_PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER
            )
            for row in day_rows
        ]

    assert rows == [
        ("ace", 6, "1.5:1"),
        ("ace", 6, "2:1"),
        ("ace", 6, "3:1"),
        ("ace", 6, "10:1"),
        ("acf", 5, "3:1"),
        ("acf", 6, "2:1"),
        ("acf", 6, "10:1"),
    ]


def test_service_rows_come_by_day_then_in_the_apis_order(db: Database) -> None:
    store(db, at("2026-11-03", "10:00"), service("b", 2), service("a", 1, product_id="mq"))
    store(db, at("2026-11-02", "10:00"), service("z", 4))

    with db.read() as connection:
        rows = [
            (day, row[6])
            for day, day_rows in rows_by_day(
                connection, SERVICE_ROWS, cluster_id=CLUSTER, period=NOVEMBER
            )
            for row in day_rows
        ]

    assert rows == [
        ("2026-11-02", "z"),
        ("2026-11-03", "b"),
        ("2026-11-03", "a"),
    ]


def test_a_store_that_cannot_be_read_raises_storage_error(db: Database) -> None:
    store(db, at("2026-11-02", "10:00"), product("a", 1))
    with db.begin() as connection:
        connection.exec_driver_sql("DROP TABLE product_daily_peaks")

    with (
        db.read() as connection,
        pytest.raises(StorageError, match="cannot read product_daily_peaks"),
    ):
        list(rows_by_day(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=NOVEMBER))
