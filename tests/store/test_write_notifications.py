"""Replicas on one PostgreSQL hear each other's writes, so no cache outlives another's write."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from license_service.errors import StorageError
from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.store.database import Database, sqlite_url
from license_service.web.reports.report_cache import BodyCache, BodyKey
from tests.store.conftest import fresh_postgres_schema, postgres_url_or_skip

pytestmark = pytest.mark.postgres

WAIT_SECONDS = 5.0


@pytest.fixture
def replicas(postgres_url: str) -> Iterator[tuple[Database, Database]]:
    leader, follower = Database.open(postgres_url), Database.open(postgres_url)
    for database in (leader, follower):
        assert database.notify_other_replicas().wait_listening(WAIT_SECONDS)
    yield leader, follower
    leader.dispose()
    follower.dispose()


def _write(database: Database) -> None:
    with database.begin() as connection:
        connection.exec_driver_sql("SELECT 1")


def _until(condition, seconds: float = WAIT_SECONDS) -> float:  # type: ignore[no-untyped-def]
    """Poll ``condition`` (a few ms apart); the seconds it took to hold. Fails after ``seconds``."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, "the condition never held"
        time.sleep(0.002)
    return time.monotonic() - started


def test_a_write_by_one_replica_advances_the_other_replicas_data_version_within_a_second(
    replicas: tuple[Database, Database],
) -> None:
    leader, follower = replicas
    before = follower.data_version

    _write(leader)
    delay = _until(lambda: follower.data_version != before)

    assert delay < 1.0


def test_a_report_cached_by_one_replica_is_dropped_when_another_writes(
    replicas: tuple[Database, Database],
) -> None:
    leader, follower = replicas
    cache = BodyCache(lambda: follower.data_version)
    key = BodyKey(
        "products", ClusterId("c"), DatePeriod(date(2026, 1, 1), date(2026, 1, 2)), None, "json"
    )
    cache.put(key, b"{}", version=follower.data_version)
    assert cache.get(key) == b"{}"

    _write(leader)
    _until(lambda: cache.get(key) is None)


def test_a_replica_does_not_count_its_own_writes_twice(replicas: tuple[Database, Database]) -> None:
    leader, follower = replicas
    before = (leader.data_version, follower.data_version)
    _write(follower)
    _until(lambda: leader.data_version > before[0])
    time.sleep(0.3)  # its own notification, if it were counted, would have arrived by now

    assert follower.data_version == before[1] + 1


def test_a_deployment_in_another_schema_of_the_database_is_not_told(
    replicas: tuple[Database, Database],
) -> None:
    # Two deployments (or the tests of one) may share a PostgreSQL database, each in a
    # schema of its own: one's writes must not drop the other's caches.
    leader, follower = replicas
    with fresh_postgres_schema(postgres_url_or_skip()) as elsewhere_url:
        elsewhere = Database.open(elsewhere_url)
        try:
            told = elsewhere.notify_other_replicas()
            assert told.wait_listening(WAIT_SECONDS)
            before = (follower.data_version, elsewhere.data_version)
            _write(leader)
            _until(lambda: follower.data_version > before[0])
            time.sleep(0.3)  # delivered to every listener of a channel at once

            assert told.received == 0
            assert elsewhere.data_version == before[1]
            neighbour = Database.open(elsewhere_url)  # a replica of the other deployment
            try:
                neighbour.announce_writes()
                _write(neighbour)
                _until(lambda: told.received == 1)
            finally:
                neighbour.dispose()
        finally:
            elsewhere.dispose()


def test_a_replica_of_the_version_before_is_heard_during_an_upgrade(
    replicas: tuple[Database, Database],
) -> None:
    # Versions before sent every schema's writes on one channel: an old leader's samples
    # must still reach a new replica while a rolling upgrade replaces them.
    _, follower = replicas
    before = follower.data_version
    with follower.begin() as connection:
        # What the old version sent, with another process's payload.
        connection.exec_driver_sql("SELECT pg_notify('license_service_writes', 'old-leader')")
    _until(lambda: follower.data_version > before + 1)


def test_while_not_listening_every_read_counts_as_after_a_write(postgres_url: str) -> None:
    database = Database.open(postgres_url)
    try:
        notifications = database.notify_other_replicas()
        assert notifications.wait_listening(WAIT_SECONDS)
        notifications.stop()

        versions = {database.data_version for _ in range(3)}
    finally:
        database.dispose()

    assert len(versions) == 3


def test_sqlite_cannot_tell_replicas_and_says_so(tmp_path: Path) -> None:
    database = Database.open(sqlite_url(tmp_path / "one.db"))
    try:
        with pytest.raises(StorageError, match="several replicas need a PostgreSQL --database-url"):
            database.notify_other_replicas()
    finally:
        database.dispose()


def test_a_writer_that_only_announces_advances_the_replicas_data_version(
    postgres_url: str, replicas: tuple[Database, Database]
) -> None:
    _, follower = replicas
    command = Database.open(postgres_url)  # a CLI command: tells, does not listen
    try:
        command.announce_writes()
        before = follower.data_version
        _write(command)
        assert _until(lambda: follower.data_version != before) < 1.0
    finally:
        command.dispose()
