"""Chargeback groups' daily peaks (SPEC 8), on SQLite and PostgreSQL: stored with the sample,
read per group, pruned at their own retention period."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import func, select

from license_service.metering.periods import DatePeriod
from license_service.metering.usage import Measurement
from license_service.metering.usage_rows import (
    CHARGEBACK_BUNDLED_PRODUCT_ROWS,
    CHARGEBACK_PRODUCT_ROWS,
    CHARGEBACK_SERVICE_ROWS,
    PRODUCT_ROWS,
)
from license_service.store.database import Database
from license_service.store.period_peaks import period_peaks
from license_service.store.retention import prune
from license_service.store.samples import record_sample
from license_service.store.tables import CHARGEBACK_PEAK_TABLES, product_daily_peaks
from tests.store.sample_builders import CLUSTER, INTERVAL, at, bundled, day, product, service


def store_groups(db: Database, taken: str, groups: Mapping[str, Measurement], day_: str) -> None:
    with db.begin() as connection:
        record_sample(
            connection,
            cluster_id=CLUSTER,
            taken_at=at(day_, taken),
            measurement=Measurement(products=(product("mq", 5),)),
            interval_seconds=INTERVAL,
            groups=groups,
        )


def finance(quantity: int) -> Measurement:
    return Measurement(
        products=(product("mq", quantity), product("cp4d", 2)),
        bundled_products=(bundled("db2", 3, ratio="2:1"),),
        services=(service("api", 3),),
    )


def research(quantity: int) -> Measurement:
    return Measurement(products=(product("mq", quantity),))


def test_group_peaks_are_kept_per_group_and_read_for_one_group(db: Database) -> None:
    store_groups(db, "10:00", {"finance": finance(4), "research": research(2)}, "2026-11-02")
    store_groups(db, "11:00", {"finance": finance(3), "research": research(6)}, "2026-11-02")
    store_groups(db, "10:00", {"finance": finance(1)}, "2026-11-03")
    period = DatePeriod(day("2026-11-01"), day("2026-11-03"))

    with db.read() as connection:
        finance_rows = period_peaks(
            connection, CHARGEBACK_PRODUCT_ROWS, cluster_id=CLUSTER, period=period, group="finance"
        )
        research_rows = period_peaks(
            connection, CHARGEBACK_PRODUCT_ROWS, cluster_id=CLUSTER, period=period, group="research"
        )
        bundled_rows = period_peaks(
            connection, CHARGEBACK_BUNDLED_PRODUCT_ROWS, cluster_id=CLUSTER, period=period
        )
        service_rows = period_peaks(
            connection, CHARGEBACK_SERVICE_ROWS, cluster_id=CLUSTER, period=period
        )
        nobody = period_peaks(
            connection, CHARGEBACK_PRODUCT_ROWS, cluster_id=CLUSTER, period=period, group="x"
        )
        cluster_rows = period_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=period)

    assert [
        (p.row.group_name, p.row.id, p.row.quantity, str(p.peak_date)) for p in finance_rows
    ] == [
        ("finance", "cp4d", 2, "2026-11-02"),
        ("finance", "mq", 4, "2026-11-02"),
    ]
    assert [(p.row.id, p.row.quantity) for p in research_rows] == [("mq", 6)]
    assert [(p.row.group_name, p.row.converted_quantity) for p in bundled_rows] == [
        ("finance", 1.5)
    ]
    assert [(p.row.group_name, p.row.service_id, p.row.value) for p in service_rows] == [
        ("finance", "api", 3)
    ]
    assert nobody == []
    # The cluster's own rows are untouched by the groups'.
    assert [(p.row.id, p.row.quantity) for p in cluster_rows] == [("mq", 5)]


def test_group_peaks_are_pruned_at_their_own_retention_period(db: Database) -> None:
    for when in ("2026-09-01", "2026-10-20", "2026-11-02"):
        store_groups(db, "10:00", {"finance": finance(4)}, when)

    with db.begin() as connection:
        result = prune(connection, now=at("2026-11-02", "12:00"), peak_days=731, chargeback_days=14)
    with db.read() as connection:
        group_days = sorted(
            {
                row.day.isoformat()
                for table in CHARGEBACK_PEAK_TABLES
                for row in connection.execute(select(table.c.day))
            }
        )
        cluster_days = connection.execute(
            select(func.count(func.distinct(product_daily_peaks.c.day)))
        ).scalar()

    # 14 days ending 2026-11-02 start on 2026-10-20: that day is kept, older ones go.
    assert group_days == ["2026-10-20", "2026-11-02"]
    assert result.group_peaks == 4  # 2026-09-01: two products, a bundled product, a service
    assert cluster_days == 3  # the cluster's peaks keep their 731 days


def test_a_group_row_is_rewritten_only_to_raise_its_peak_or_change_its_names(
    db: Database,
) -> None:
    def named(name: str, quantity: int) -> Measurement:
        return Measurement(products=(product("mq", quantity, name=name),))

    store_groups(db, "10:00", {"finance": named("MQ", 4)}, "2026-11-02")
    store_groups(db, "10:05", {"finance": named("MQ", 3)}, "2026-11-02")  # nothing to change
    store_groups(db, "10:10", {"finance": named("IBM MQ", 2)}, "2026-11-02")  # new name
    store_groups(db, "10:15", {"finance": named("IBM MQ", 6)}, "2026-11-02")  # higher
    store_groups(db, "10:20", {"finance": named("IBM MQ", 5)}, "2026-11-02")  # nothing

    with db.read() as connection:
        (row,) = connection.execute(select(CHARGEBACK_PEAK_TABLES[0])).all()
    assert (row.product_name, row.quantity) == ("IBM MQ", 6)
    assert row.names_at == at("2026-11-02", "10:15")
