"""The Reporter's kept report bodies: answered again only while no replica has written."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection

from license_service.fleet.fleet_schema import open_fleet_database
from license_service.fleet.fleet_store import fleet_data_version, store_days
from license_service.fleet.push_format import ClusterIdentity
from license_service.store.database import Database, sqlite_url
from license_service.web.reporter.fleet_bodies import FleetBodies
from tests.fleet.pushes import days_from
from tests.store.conftest import fresh_postgres_schema, postgres_url_or_skip

D1 = date(2026, 12, 1)
NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


def _push(database: Database, cluster: str, quantity: int) -> None:
    with database.begin() as connection:
        store_days(
            connection,
            ClusterIdentity(cluster, cluster, "1.0"),
            days_from(D1, 2, quantity=quantity),
            fingerprint="SHA256:aa",
            public_key_pem="pem",
            now=NOW,
            source="push",
        )


class _Counting:
    """A body computation that counts its calls and answers the data version it read."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, connection: Connection) -> bytes:
        self.calls += 1
        return f"{self.calls}:{fleet_data_version(connection)}".encode()


@pytest.fixture
def postgres_replicas() -> Iterator[tuple[Database, Database]]:
    """Two replicas' databases on one fresh PostgreSQL schema."""
    with fresh_postgres_schema(postgres_url_or_skip()) as url:
        first, second = open_fleet_database(url), open_fleet_database(url)
        yield first, second
        first.dispose()
        second.dispose()


@pytest.mark.postgres
def test_a_body_is_kept_until_another_replica_writes(
    postgres_replicas: tuple[Database, Database],
) -> None:
    first, second = postgres_replicas
    _push(first, "cluster-a", 1)
    bodies = FleetBodies(second)
    compute = _Counting()

    kept = bodies.body("products", compute)
    assert bodies.body("products", compute) == kept
    _push(first, "cluster-a", 2)  # the other replica: no notification reaches `second`
    changed = bodies.body("products", compute)
    _push(first, "cluster-b", 3)  # a new cluster
    added = bodies.body("products", compute)

    assert compute.calls == 3
    assert len({kept, changed, added}) == 3
    assert bodies.body("products", compute) == added


def test_on_sqlite_the_process_own_writes_drop_the_bodies(tmp_path: Path) -> None:
    database = open_fleet_database(sqlite_url(tmp_path / "reporter.db"))
    try:
        bodies = FleetBodies(database)
        compute = _Counting()
        first = bodies.body(("products", None), compute)
        assert bodies.body(("products", None), compute) == first
        _push(database, "cluster-a", 1)
        assert bodies.body(("products", None), compute) != first
        assert bodies.body(("bundled", None), compute) != first
        assert compute.calls == 3
    finally:
        database.dispose()


def test_memory_is_bounded_by_entries_and_bytes(tmp_path: Path) -> None:
    database = open_fleet_database(sqlite_url(tmp_path / "reporter.db"))
    try:
        bodies = FleetBodies(database, max_entries=2, max_bytes=400)
        for number in range(3):
            bodies.body(number, lambda _: b"x" * 50)
        big: list[int] = []

        def large(_: Connection) -> bytes:
            big.append(1)
            return b"y" * 150  # above a quarter of 400 bytes: answered, not kept

        bodies.body("big", large)
        bodies.body("big", large)
        again = _Counting()
        bodies.body(0, again)  # dropped first (least recently used)
        bodies.body(2, again)  # still kept
        assert (len(big), again.calls) == (2, 1)
    finally:
        database.dispose()


@pytest.mark.postgres
def test_concurrent_requests_share_version_reads_and_none_misses_a_write(
    postgres_replicas: tuple[Database, Database],
) -> None:
    first, second = postgres_replicas
    _push(first, "cluster-a", 1)
    bodies = FleetBodies(second)
    compute = _Counting()
    before = bodies.body("products", compute)

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda _: bodies.body("products", compute), range(64)))
    _push(first, "cluster-a", 2)
    after = bodies.body("products", compute)

    assert set(answers) == {before}
    assert after != before
    assert compute.calls == 2
