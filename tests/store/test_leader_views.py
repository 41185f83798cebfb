"""The leader's shared view (SPEC 12): one document per cluster, its writer and its time."""

from __future__ import annotations

from datetime import datetime

import pytest

from license_service.errors import StorageError
from license_service.store.database import Database
from license_service.store.leader_views import (
    StoredLeaderView,
    stored_leader_view,
    touch_leader_view,
    write_leader_view,
)
from tests.store.sample_builders import CLUSTER, OTHER_CLUSTER, at

BIG = '{"pods": "' + "é" * 70_000 + '"}'


def test_there_is_no_view_before_a_leader_writes_one(db: Database) -> None:
    with db.read() as connection:
        assert stored_leader_view(connection, cluster_id=CLUSTER) is None


def test_a_written_view_is_read_back_with_its_writer_and_time(db: Database) -> None:
    with db.begin() as connection:
        write_leader_view(
            connection,
            cluster_id=CLUSTER,
            leader="pod-a",
            written_at=at("2026-11-28", "10:00"),
            document=BIG,
        )
    with db.read() as connection:
        stored = stored_leader_view(connection, cluster_id=CLUSTER)

    assert stored == StoredLeaderView("pod-a", at("2026-11-28", "10:00"), BIG)


def test_a_new_view_replaces_the_previous_one_whoever_wrote_it(db: Database) -> None:
    with db.begin() as connection:
        write_leader_view(
            connection,
            cluster_id=CLUSTER,
            leader="pod-a",
            written_at=at("2026-11-28"),
            document="1",
        )
        write_leader_view(
            connection,
            cluster_id=CLUSTER,
            leader="pod-b",
            written_at=at("2026-11-28", "10:00"),
            document="2",
        )
    with db.read() as connection:
        stored = stored_leader_view(connection, cluster_id=CLUSTER)

    assert stored == StoredLeaderView("pod-b", at("2026-11-28", "10:00"), "2")


def test_touching_moves_only_the_time_of_the_writers_own_view(db: Database) -> None:
    with db.begin() as connection:
        write_leader_view(
            connection,
            cluster_id=CLUSTER,
            leader="pod-a",
            written_at=at("2026-11-28"),
            document="1",
        )
        mine = touch_leader_view(
            connection, cluster_id=CLUSTER, leader="pod-a", written_at=at("2026-11-28", "10:05")
        )
        another = touch_leader_view(
            connection, cluster_id=CLUSTER, leader="pod-b", written_at=at("2026-11-28", "10:10")
        )
        none_yet = touch_leader_view(
            connection, cluster_id=OTHER_CLUSTER, leader="pod-a", written_at=at("2026-11-28")
        )
    with db.read() as connection:
        stored = stored_leader_view(connection, cluster_id=CLUSTER)
        other = stored_leader_view(connection, cluster_id=OTHER_CLUSTER)

    assert (mine, another, none_yet) == (True, False, False)
    assert stored == StoredLeaderView("pod-a", at("2026-11-28", "10:05"), "1")
    assert other is None


def test_each_cluster_has_its_own_view(db: Database) -> None:
    with db.begin() as connection:
        for cluster, document in ((CLUSTER, "a"), (OTHER_CLUSTER, "b")):
            write_leader_view(
                connection,
                cluster_id=cluster,
                leader="pod-a",
                written_at=at("2026-11-28"),
                document=document,
            )
    with db.read() as connection:
        documents = [
            view.document
            for cluster in (CLUSTER, OTHER_CLUSTER)
            if (view := stored_leader_view(connection, cluster_id=cluster)) is not None
        ]

    assert documents == ["a", "b"]


def test_a_time_without_a_zone_is_refused_with_an_example(db: Database) -> None:
    with (
        pytest.raises(StorageError, match=r"written_at .* has no time zone"),
        db.begin() as connection,
    ):
        write_leader_view(
            connection,
            cluster_id=CLUSTER,
            leader="pod-a",
            written_at=datetime(2026, 11, 28, 10, 0),
            document="1",
        )
