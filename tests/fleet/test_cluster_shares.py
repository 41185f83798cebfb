"""The clusters of a key's daily fleet sums, on SQLite and PostgreSQL: ranked, and read back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from license_service.fleet.cluster_shares import cluster_values, clusters_on_day
from license_service.fleet.fleet_store import fleet_daily_sums, store_days
from license_service.fleet.push_format import ClusterIdentity, PushDay
from license_service.metering.fleet_sums import daily_sums
from license_service.metering.periods import DatePeriod
from license_service.metering.usage_rows import PRODUCT_ROWS
from license_service.store.database import Database
from tests.fleet.pushes import day_of

D1 = date(2026, 12, 1)
PERIOD = DatePeriod(D1, date(2026, 12, 6))
MQ = ("mq-1", "VIRTUAL_PROCESSOR_CORE")


def _store(db: Database, cluster: str, days: list[PushDay]) -> None:
    with db.begin() as connection:
        store_days(
            connection,
            ClusterIdentity(cluster, f"{cluster} name", "1.0"),
            days,
            fingerprint=f"SHA256:{cluster}",
            public_key_pem="pem",
            now=datetime(2026, 12, 6, 12, tzinfo=UTC),
            source="push",
        )


def test_clusters_rank_by_their_value_on_the_day_and_their_values_add_up_to_the_sums(
    fleet_db: Database,
) -> None:
    _store(fleet_db, "c-small", [day_of(D1, quantity=1)])
    _store(fleet_db, "c-big", [day_of(D1 + timedelta(days=n), quantity=9 - n) for n in range(4)])
    _store(fleet_db, "c-mid", [day_of(D1 + timedelta(days=n), quantity=5) for n in range(2)])
    _store(fleet_db, "c-tie", [day_of(D1 + timedelta(days=n), quantity=5) for n in range(2)])
    with fleet_db.read() as connection:
        ranked = clusters_on_day(connection, PRODUCT_ROWS, key=MQ, day=D1)
        later = clusters_on_day(connection, PRODUCT_ROWS, key=MQ, day=D1 + timedelta(days=3))
        values = cluster_values(connection, PRODUCT_ROWS, PERIOD, key=MQ, cluster_ids=ranked)
        fleet = daily_sums(PRODUCT_ROWS, [fleet_daily_sums(connection, PRODUCT_ROWS, PERIOD)])[MQ]
        nothing = cluster_values(connection, PRODUCT_ROWS, PERIOD, key=MQ, cluster_ids=[])
    assert ranked == ["c-big", "c-mid", "c-tie", "c-small"]  # 9, 5, 5 (by id), 1
    assert later == ["c-big"]
    assert values["c-small"] == {D1: 1}
    assert values["c-big"] == {D1 + timedelta(days=n): 9 - n for n in range(4)}
    for day, total in fleet.items():
        assert sum(by_day.get(day, 0) for by_day in values.values()) == total
    assert nothing == {}


def test_another_key_is_not_counted(fleet_db: Database) -> None:
    _store(fleet_db, "c1", [day_of(D1, quantity=3, cloudpak=7)])
    with fleet_db.read() as connection:
        values = cluster_values(
            connection, PRODUCT_ROWS, PERIOD, key=("cp4i", MQ[1]), cluster_ids=["c1"]
        )
        unknown = clusters_on_day(connection, PRODUCT_ROWS, key=("nope", MQ[1]), day=D1)
    assert values == {"c1": {D1: 7}}
    assert unknown == []
