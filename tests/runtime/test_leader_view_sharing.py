"""The leader writes its view only when it changed, or once per sampling interval; a
follower on the same PostgreSQL reads it after the leader's write (SPEC 12)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from license_service.metering.cluster_view import ClusterId
from license_service.metering.usage import AnnotationProblem, Measurement, PodProblems
from license_service.reporting.sender import SenderStatus
from license_service.runtime.leader_view_sharing import LeaderViewPublisher, reader_for
from license_service.sampling.status import SamplerStatus
from license_service.store.database import Database, sqlite_url
from license_service.store.leader_views import stored_leader_view, write_leader_view
from tests.e2e.processes import eventually
from tests.store.conftest import fresh_postgres_schema, postgres_url_or_skip

CLUSTER = ClusterId("cluster-a")
START = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
INTERVAL = timedelta(minutes=5)
BROKEN = Measurement(
    incomplete_annotations=(
        PodProblems("ns", "pod-1", (AnnotationProblem("productMetric", "missing"),)),
    )
)


class World:
    """The leader's in-memory statuses and clock, changed by the test."""

    def __init__(self) -> None:
        self.now = START
        self.sampler = SamplerStatus(interval=INTERVAL, last_measurement=BROKEN)
        self.sender = SenderStatus(reporter_url="https://reporter.example")


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    opened = Database.open(sqlite_url(tmp_path / "license-service.db"))
    yield opened
    opened.dispose()


def _publisher(database: Database, world: World, identity: str = "pod-a") -> LeaderViewPublisher:
    return LeaderViewPublisher(
        database,
        cluster_id=CLUSTER,
        identity=identity,
        sampler=lambda: world.sampler,
        sender=lambda: world.sender,
        clock=lambda: world.now,
    )


def test_the_view_is_written_when_it_changes_and_touched_once_per_interval(
    database: Database,
) -> None:
    world = World()
    publisher = _publisher(database, world)
    writes: list[int] = []
    database.add_write_listener(listener := lambda: writes.append(1))

    publisher.publish()
    first = len(writes)
    world.now += timedelta(seconds=30)
    world.sampler = replace(world.sampler, last_tick_at=world.now)  # a new, equal status
    publisher.publish()
    unchanged = len(writes)
    world.sender = replace(world.sender, last_push_at=world.now)
    publisher.publish()
    changed = len(writes)
    with database.read() as connection:
        after_change = stored_leader_view(connection, cluster_id=CLUSTER)
    world.now += INTERVAL
    publisher.publish()
    with database.read() as connection:
        touched = stored_leader_view(connection, cluster_id=CLUSTER)

    del listener
    assert (first, unchanged, changed, len(writes)) == (1, 1, 2, 3)
    assert after_change is not None
    assert touched is not None
    assert '"lastPushAt":"2026-11-28T10:00:30Z"' in after_change.document
    assert '"name":"pod-1"' in after_change.document
    assert after_change.written_at == START + timedelta(seconds=30)
    assert touched.written_at == START + timedelta(seconds=30) + INTERVAL
    assert touched.document == after_change.document


def test_a_new_leader_shares_nothing_before_its_first_measurement(database: Database) -> None:
    world = World()
    world.sampler = SamplerStatus(interval=INTERVAL)
    with database.begin() as connection:
        write_leader_view(
            connection, cluster_id=CLUSTER, leader="pod-b", written_at=START, document="{}"
        )
    publisher = _publisher(database, world)

    publisher.publish()
    with database.read() as connection:
        kept = stored_leader_view(connection, cluster_id=CLUSTER)
    world.sampler = replace(world.sampler, last_measurement=BROKEN)
    publisher.publish()
    with database.read() as connection:
        replaced = stored_leader_view(connection, cluster_id=CLUSTER)

    assert kept is not None
    assert kept.leader == "pod-b"
    assert replaced is not None
    assert replaced.leader == "pod-a"


def test_a_new_term_writes_the_view_whole_over_another_leaders(database: Database) -> None:
    world = World()
    publisher = _publisher(database, world)
    publisher.publish()
    with database.begin() as connection:
        write_leader_view(
            connection, cluster_id=CLUSTER, leader="pod-b", written_at=START, document="{}"
        )

    world.now += INTERVAL
    publisher.publish()  # unchanged, but pod-b wrote last: written whole, not touched
    with database.read() as connection:
        stored = stored_leader_view(connection, cluster_id=CLUSTER)

    assert stored is not None
    assert stored.leader == "pod-a"
    assert '"name":"pod-1"' in stored.document


def test_a_store_that_cannot_be_written_is_logged_once_and_tried_again(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    world = World()
    publisher = _publisher(database, world)
    with database.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE leader_views RENAME TO away")
    publisher.publish()
    publisher.publish()
    with database.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE away RENAME TO leader_views")
    publisher.publish()
    with database.read() as connection:
        stored = stored_leader_view(connection, cluster_id=CLUSTER)

    refusals = [r for r in caplog.records if "Cannot share the leader's view" in r.message]
    assert len(refusals) == 1
    assert stored is not None
    assert stored.leader == "pod-a"


@pytest.mark.postgres
def test_a_follower_reads_the_view_after_the_leaders_write() -> None:
    with fresh_postgres_schema(postgres_url_or_skip()) as url:
        leader, follower = Database.open(url), Database.open(url)
        try:
            for database in (leader, follower):
                assert database.notify_other_replicas().wait_listening(5)
            followed = reader_for(follower, cluster_id=CLUSTER)
            before = followed()
            world = World()
            _publisher(leader, world).publish()

            view = eventually(lambda: followed().view, within=5, what="the view read")
        finally:
            leader.dispose()
            follower.dispose()

    assert before.view is None
    assert view.leader == "pod-a"
    assert view.written_at == START
    assert view.document["sections"]["incompleteAnnotations"]["count"] == 1
    assert view.document["sender"] is not None
    assert view.document["sender"]["reporterURL"] == "https://reporter.example"


def test_a_view_another_version_wrote_is_not_shown_and_says_why(database: Database) -> None:
    with database.begin() as connection:
        write_leader_view(
            connection,
            cluster_id=CLUSTER,
            leader="pod-z",
            written_at=START,
            document='{"format": 1}',  # before the figures for /metrics
        )

    followed = reader_for(database, cluster_id=CLUSTER)()

    assert followed.view is None
    assert followed.problem is not None
    assert "the replicas run different versions" in followed.problem
