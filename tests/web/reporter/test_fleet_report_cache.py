"""The Reporter's kept report bodies (``fleet_reports.fleet_bodies``, License Service's
``CachedReports``): answered without reading while nothing is written, read once for
concurrent misses, dropped by this process's writes and, on PostgreSQL, another's.

Real SQLite files and a real PostgreSQL; the days are stored by the store's own
``store_days`` through ``Database.begin``, as pushes store them. Reads are counted by
the statements that reach the fleet's sum tables.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event

from license_service.auth.authenticators import ApiTokenAuthenticator
from license_service.fleet.fleet_schema import open_fleet_database
from license_service.fleet.fleet_store import store_days
from license_service.fleet.push_format import ClusterIdentity
from license_service.metering.periods import DatePeriod
from license_service.store.database import Database, sqlite_url
from license_service.tokens.file_source import TokenFile
from license_service.tokens.kinds import REPORTER_TOKEN
from license_service.web.reporter.fleet_reports import CLUSTER_LIST, fleet_bodies
from license_service.web.reporter.reporter_state import ReporterState
from license_service.web.reports.cached_reports import CachedReports
from license_service.web.reports.period_parameters import ReportQuery
from license_service.web.reports.report_bodies import PRODUCTS
from tests.fleet.pushes import days_from
from tests.store.conftest import fresh_postgres_schema, postgres_url_or_skip

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
TODAY = NOW.date()
D1 = date(2026, 12, 1)
QUERY = ReportQuery(DatePeriod(D1, TODAY), None, "json")
SUMS = "fleet_product_daily_sums"


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


def _state(database: Database, tmp_path: Path) -> ReporterState:
    token_file = tmp_path / "token"
    token_file.write_text("reporter-token-0123456789")
    tokens = TokenFile(
        token_file,
        generate_if_missing=False,
        grace_period=timedelta(0),
        clock=lambda: NOW,
        kind=REPORTER_TOKEN,
    )
    authenticator = ApiTokenAuthenticator(
        tokens, url_based_enabled=lambda: True, kind=REPORTER_TOKEN
    )
    return ReporterState(database=database, authenticator=authenticator, now=lambda: NOW)


def _mq_quantity(body: bytes) -> int:
    [row] = [r for r in json.loads(body) if r["id"] == "mq-1"]
    return int(row["metricQuantity"])


class _SumReads:
    """Counts the statements reading the fleet's product sums."""

    def __init__(self, database: Database) -> None:
        self.count = 0
        event.listen(database.engine, "before_cursor_execute", self._seen)

    def _seen(self, *arguments: object) -> None:
        statement = str(arguments[2])
        if statement.lstrip().upper().startswith("SELECT") and SUMS in statement:
            self.count += 1


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[Database]:
    database = open_fleet_database(sqlite_url(tmp_path / "reporter.db"))
    yield database
    database.dispose()


def test_a_kept_body_is_answered_without_reading_until_a_push_is_stored(
    sqlite_database: Database, tmp_path: Path
) -> None:
    _push(sqlite_database, "cluster-a", 1)
    bodies = fleet_bodies(_state(sqlite_database, tmp_path))
    reads = _SumReads(sqlite_database)

    async def scenario() -> tuple[list[int], int]:
        seen = [_mq_quantity(await bodies.body(PRODUCTS, QUERY, today=TODAY)) for _ in range(5)]
        read_before_push = reads.count
        _push(sqlite_database, "cluster-a", 6)
        seen.append(_mq_quantity(await bodies.body(PRODUCTS, QUERY, today=TODAY)))
        await bodies.wait_for_warming()
        return seen, read_before_push

    seen, read_before_push = asyncio.run(scenario())
    assert seen == [1, 1, 1, 1, 1, 6]
    assert read_before_push == 1


def test_sixteen_concurrent_misses_of_one_key_read_it_once(
    sqlite_database: Database, tmp_path: Path
) -> None:
    _push(sqlite_database, "cluster-a", 2)
    _push(sqlite_database, "cluster-b", 3)
    bodies = fleet_bodies(_state(sqlite_database, tmp_path))
    reads = _SumReads(sqlite_database)

    async def sixteen() -> list[bytes]:
        return await asyncio.gather(*(bodies.body(PRODUCTS, QUERY, today=TODAY) for _ in range(16)))

    answers = asyncio.run(sixteen())
    assert {_mq_quantity(body) for body in answers} == {5}
    assert reads.count == 1


def test_the_cluster_filter_and_the_cluster_list_are_kept_apart(
    sqlite_database: Database, tmp_path: Path
) -> None:
    _push(sqlite_database, "cluster-a", 2)
    _push(sqlite_database, "cluster-b", 3)
    bodies = fleet_bodies(_state(sqlite_database, tmp_path))

    async def answers() -> tuple[bytes, bytes, bytes]:
        return (
            await bodies.body(PRODUCTS, QUERY, today=TODAY),
            await bodies.body(PRODUCTS, QUERY, today=TODAY, cluster_id="cluster-b"),
            await bodies.body(CLUSTER_LIST, QUERY, today=TODAY),
        )

    fleet, cluster_b, clusters = asyncio.run(answers())
    assert (_mq_quantity(fleet), _mq_quantity(cluster_b)) == (5, 3)
    assert [c["clusterId"] for c in json.loads(clusters)] == ["cluster-a", "cluster-b"]


@pytest.mark.postgres
def test_a_replica_drops_its_kept_body_when_another_replica_writes(tmp_path: Path) -> None:
    with fresh_postgres_schema(postgres_url_or_skip()) as url:
        writer, reader = open_fleet_database(url), open_fleet_database(url)
        try:
            assert reader.notify_other_replicas().wait_listening(5)
            _push(writer, "cluster-a", 1)
            bodies = fleet_bodies(_state(reader, tmp_path))

            async def scenario() -> tuple[int, int, float]:
                kept = _mq_quantity(await _eventually(bodies, 1))
                _push(writer, "cluster-a", 8)
                started = time.monotonic()
                changed = _mq_quantity(await _eventually(bodies, 8))
                return kept, changed, time.monotonic() - started

            kept, changed, waited = asyncio.run(scenario())
            assert (kept, changed) == (1, 8)
            assert waited < 1.0
        finally:
            writer.dispose()
            reader.dispose()


async def _eventually(bodies: CachedReports, quantity: int, *, seconds: float = 2.0) -> bytes:
    """The body once it shows ``quantity`` for mq-1 (a replica is told within ms)."""
    deadline = time.monotonic() + seconds
    while True:
        body = await bodies.body(PRODUCTS, QUERY, today=TODAY)
        if _mq_quantity(body) == quantity or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.01)
