"""The Reporter's store, on SQLite and PostgreSQL: days replaced, keys pinned, rows read back."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, inspect, select

from license_service.errors import InputError
from license_service.fleet.fleet_schema import VERSION_TABLE, open_fleet_database
from license_service.fleet.fleet_store import (
    KeyRefusal,
    StoredDays,
    cluster_daily_rows,
    cluster_records,
    fleet_daily_sums,
    refusals,
    reported_days,
    store_days,
    trust_pending_key,
)
from license_service.fleet.push_format import ClusterIdentity, PushDay, PushUpload
from license_service.fleet.tables import (
    FLEET_PEAK_TABLES,
    FLEET_SUM_TABLES,
    fleet_clusters,
    fleet_days,
    fleet_metadata,
    fleet_uploads,
)
from license_service.metering.fleet_sums import fleet_peaks
from license_service.metering.periods import DatePeriod
from license_service.metering.uploads import AggregationPolicy
from license_service.metering.usage_rows import (
    BUNDLED_PRODUCT_ROWS,
    PRODUCT_ROWS,
    SERVICE_ROWS,
    ProductUsage,
)
from license_service.store.database import Database
from tests.fleet.pushes import day_of, days_from

D1 = date(2026, 12, 1)
NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
PERIOD = DatePeriod(D1, date(2026, 12, 6))


def _store(db: Database, cluster: str, days: list[PushDay], key: str = "SHA256:aa"):
    with db.begin() as connection:
        return store_days(
            connection,
            ClusterIdentity(cluster, f"{cluster} name", "1.0"),
            days,
            fingerprint=key,
            public_key_pem=f"pem of {key}",
            now=NOW,
            source="push",
        )


def test_the_migrated_schema_matches_the_tables_in_its_own_version_table(
    fleet_db: Database,
) -> None:
    with fleet_db.begin() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        assert compare_metadata(context, fleet_metadata) == []
        names = set(inspect(connection).get_table_names())
    assert names == {*fleet_metadata.tables, VERSION_TABLE}


def test_opening_twice_keeps_the_data(fleet_url: str, fleet_db: Database) -> None:
    _store(fleet_db, "c1", days_from(D1, 2))
    again = open_fleet_database(fleet_url)
    try:
        with again.read() as connection:
            assert [r.cluster_id for r in cluster_records(connection)] == ["c1"]
    finally:
        again.dispose()


def test_stored_days_read_back_as_the_same_rows(fleet_db: Database) -> None:
    days = days_from(D1, 3)
    stored = _store(fleet_db, "c1", days)
    assert stored == StoredDays("c1", 3, date(2026, 12, 3))
    with fleet_db.read() as connection:
        for spec, attribute in (
            (PRODUCT_ROWS, "products"),
            (BUNDLED_PRODUCT_ROWS, "bundled_products"),
            (SERVICE_ROWS, "services"),
        ):
            read = cluster_daily_rows(connection, spec, PERIOD)
            assert {d: sorted(r) for d, r in read["c1"].items()} == {
                day.date: sorted(getattr(day, attribute)) for day in days
            }


def test_a_pushed_day_replaces_the_clusters_day_and_pushing_again_changes_nothing(
    fleet_db: Database,
) -> None:
    _store(fleet_db, "c1", days_from(D1, 2, quantity=4))
    _store(fleet_db, "c1", [day_of(date(2026, 12, 2), quantity=9)])
    _store(fleet_db, "c1", [day_of(date(2026, 12, 2), quantity=9)])
    with fleet_db.read() as connection:
        read = cluster_daily_rows(connection, PRODUCT_ROWS, PERIOD, metric="VIRTUAL_PROCESSOR_CORE")
    mq = {d: [r.quantity for r in rows if r.id == "mq-1"] for d, rows in read["c1"].items()}
    assert mq == {D1: [4], date(2026, 12, 2): [9]}


def test_acknowledged_through_stops_at_a_gap_and_at_an_incomplete_day(fleet_db: Database) -> None:
    assert _store(fleet_db, "c1", days_from(D1, 2)).acknowledged_through == date(2026, 12, 2)
    later = [day_of(date(2026, 12, 4)), day_of(date(2026, 12, 5), complete=False)]
    assert _store(fleet_db, "c1", later).acknowledged_through == date(2026, 12, 2)
    filled = _store(fleet_db, "c1", [day_of(date(2026, 12, 3))])
    assert filled.acknowledged_through == date(2026, 12, 4)
    only_today = _store(fleet_db, "c2", [day_of(D1, complete=False)])
    assert only_today.acknowledged_through is None


def test_another_key_is_refused_kept_pending_and_trusted_on_request(fleet_db: Database) -> None:
    _store(fleet_db, "c1", [day_of(D1, quantity=1)], key="SHA256:aa")
    refused = _store(fleet_db, "c1", [day_of(D1, quantity=7)], key="SHA256:bb")
    assert refused == KeyRefusal("c1", "SHA256:bb", "SHA256:aa")
    assert "license-service reporter trust c1" in refused.message
    with fleet_db.read() as connection:
        [record] = cluster_records(connection)
        assert (record.key_fingerprint, record.pending_fingerprint) == ("SHA256:aa", "SHA256:bb")
        assert [r.fingerprint for r in refusals(connection)] == ["SHA256:bb"]
        stored = cluster_daily_rows(connection, PRODUCT_ROWS, PERIOD)
        assert {r.quantity for r in stored["c1"][D1] if r.id == "mq-1"} == {1}
    with fleet_db.begin() as connection:
        assert trust_pending_key(connection, "c1") == "SHA256:bb"
    assert isinstance(_store(fleet_db, "c1", [day_of(D1, quantity=7)], key="SHA256:bb"), StoredDays)
    assert isinstance(_store(fleet_db, "c1", [day_of(D1)], key="SHA256:aa"), KeyRefusal)


def test_trusting_without_a_pending_key_or_cluster_is_refused(fleet_db: Database) -> None:
    _store(fleet_db, "c1", [day_of(D1)])
    with fleet_db.begin() as connection, pytest.raises(InputError, match="no refused key"):
        trust_pending_key(connection, "c1")
    with fleet_db.begin() as connection, pytest.raises(InputError, match="no cluster 'zz'"):
        trust_pending_key(connection, "zz")


def test_reported_days_and_cluster_spans(fleet_db: Database) -> None:
    _store(fleet_db, "c1", days_from(D1, 2))
    _store(fleet_db, "c2", [day_of(date(2026, 12, 3))])
    with fleet_db.read() as connection:
        assert reported_days(connection, PERIOD) == {
            "c1": {D1, date(2026, 12, 2)},
            "c2": {date(2026, 12, 3)},
        }
        spans = {r.cluster_id: (r.first_day, r.last_day) for r in cluster_records(connection)}
    assert spans == {"c1": (D1, date(2026, 12, 2)), "c2": (date(2026, 12, 3),) * 2}


_quantities = st.lists(st.integers(min_value=0, max_value=50), min_size=4, max_size=4)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(_quantities, st.booleans()), min_size=1, max_size=3))
def test_the_sql_daily_sums_give_the_same_period_rows_as_the_clusters_rows(
    fleet_db: Database, clusters: list[tuple[list[int], bool]]
) -> None:
    with fleet_db.begin() as connection:
        for table in (*FLEET_PEAK_TABLES.values(), *FLEET_SUM_TABLES.values(), fleet_days):
            connection.execute(delete(table))
        connection.execute(delete(fleet_clusters))
    for number, (quantities, renamed) in enumerate(clusters):
        days = []
        for offset, quantity in enumerate(quantities):
            day = day_of(D1 + timedelta(days=offset), quantity=quantity, cloudpak=offset)
            if renamed and offset == 3:
                day = replace(
                    day, products=(ProductUsage("MQ renamed", "mq-1", "VIRTUAL_PROCESSOR_CORE", 1),)
                )
            days.append(day)
        _store(fleet_db, f"c{number}", days)
    with fleet_db.read() as connection:
        for spec in (PRODUCT_ROWS, BUNDLED_PRODUCT_ROWS, SERVICE_ROWS):
            by_cluster = cluster_daily_rows(connection, spec, PERIOD)
            sums = fleet_daily_sums(connection, spec, PERIOD)
            expected = fleet_peaks(spec, by_cluster.values())
            assert expected
            assert fleet_peaks(spec, [sums]) == expected


def test_a_days_uploads_are_kept_and_replaced_with_the_day(fleet_db: Database) -> None:
    upload = PushUpload(
        received_at=NOW,
        date=D1,
        product_id="p-1",
        product_name="Uploaded",
        product_metric="API_CALLS",
        metric_value=Decimal("0.25"),
        aggregation_policy=AggregationPolicy.MAX,
        cloudpak_id="",
        submission_id="",
    )
    _store(fleet_db, "c1", [replace(day_of(D1), uploads=(upload, upload))])
    with fleet_db.read() as connection:
        kept = connection.execute(
            select(fleet_uploads.c.metric_value, fleet_uploads.c.received_at)
        ).all()
    assert [tuple(row) for row in kept] == [("0.25", "2026-12-06T12:00:00Z")] * 2
    _store(fleet_db, "c1", [day_of(D1)])
    with fleet_db.read() as connection:
        assert connection.execute(select(fleet_uploads.c.day)).all() == []


def test_pushes_of_many_clusters_at_once_keep_the_sums_exact(fleet_db: Database) -> None:
    def pushes(number: int) -> None:
        for round_ in range(3):
            days = [
                day_of(D1 + timedelta(days=n), quantity=number + round_ + n, cloudpak=round_)
                for n in range(4)
            ]
            _store(fleet_db, f"c{number}", days)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(pushes, range(4)))
    with fleet_db.read() as connection:
        for spec in (PRODUCT_ROWS, BUNDLED_PRODUCT_ROWS, SERVICE_ROWS):
            by_cluster = cluster_daily_rows(connection, spec, PERIOD)
            assert len(by_cluster) == 4
            sums = fleet_daily_sums(connection, spec, PERIOD)
            assert fleet_peaks(spec, [sums]) == fleet_peaks(spec, by_cluster.values())
    with fleet_db.read() as connection:
        products = fleet_daily_sums(connection, PRODUCT_ROWS, PERIOD)
    # The last round of each cluster: quantity number + 2 + n, highest on day 3: 2+3 x 4 + 6.
    [mq] = [p for p in fleet_peaks(PRODUCT_ROWS, [products]) if p.row.id == "mq-1"]
    assert (mq.row.quantity, mq.peak_date) == (4 * 5 + 6, D1 + timedelta(days=3))


def test_a_row_gone_or_renamed_on_a_pushed_again_day_leaves_no_sum_behind(
    fleet_db: Database,
) -> None:
    _store(fleet_db, "c1", [day_of(D1)])
    _store(fleet_db, "c2", [day_of(D1)])
    renamed = ProductUsage("Cloud Pak renamed", "cp4i", "VIRTUAL_PROCESSOR_CORE", 5)
    _store(fleet_db, "c1", [replace(day_of(D1), products=(renamed,))])
    with fleet_db.read() as connection:
        sums = fleet_daily_sums(connection, PRODUCT_ROWS, PERIOD)
        stored = connection.execute(select(FLEET_SUM_TABLES[PRODUCT_ROWS])).all()
    assert sorted(sums[D1]) == sorted(
        [
            ProductUsage("IBM MQ", "mq-1", "VIRTUAL_PROCESSOR_CORE", 4),
            ProductUsage("Cloud Pak for Integration", "cp4i", "VIRTUAL_PROCESSOR_CORE", 2),
            renamed,
        ]
    )
    assert all(row.contributors == 1 for row in stored)
    _store(fleet_db, "c2", [replace(day_of(D1), products=())])
    _store(fleet_db, "c1", [replace(day_of(D1), products=())])
    with fleet_db.read() as connection:
        assert connection.execute(select(FLEET_SUM_TABLES[PRODUCT_ROWS])).all() == []
