"""Listing the clusters a database holds data of."""

from __future__ import annotations

from license_service.metering.cluster_view import ClusterId
from license_service.store.clusters import cluster_ids
from license_service.store.database import Database
from license_service.store.sampling_coverage import record_missed_sample
from tests.store.sample_builders import CLUSTER, OTHER_CLUSTER, at, product, store


def test_every_cluster_with_samples_or_sampling_records_is_listed_once(db: Database) -> None:
    store(db, at("2026-11-02", "10:00"), product("db2", 1), cluster_id=OTHER_CLUSTER)
    store(db, at("2026-11-02", "10:05"), product("db2", 1), cluster_id=OTHER_CLUSTER)
    store(db, at("2026-11-02", "10:00"), product("db2", 1))
    with db.begin() as connection:
        record_missed_sample(
            connection, cluster_id=ClusterId("cluster-c"), at=at("2026-11-02"), reason="not synced"
        )
        listed = cluster_ids(connection)

    assert listed == [CLUSTER, OTHER_CLUSTER, ClusterId("cluster-c")]


def test_an_empty_database_lists_no_cluster(db: Database) -> None:
    with db.begin() as connection:
        assert cluster_ids(connection) == []
