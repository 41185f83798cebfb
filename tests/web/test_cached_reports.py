"""Report bodies from the cache: identical to fresh ones, invalidated by writes, computed once.

The app and ``CachedReports`` run over a real SQLite file; samples are stored with the
store's own functions, through ``Database.begin``, as the sampler stores them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection
from starlette.testclient import TestClient

from license_service.errors import StorageError
from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.store.database import Database
from license_service.web.app_state import AppState
from license_service.web.reports.cached_reports import CachedReports
from license_service.web.reports.period_parameters import ReportFormat, ReportQuery
from license_service.web.reports.report_bodies import (
    BUNDLED_PRODUCTS,
    PRODUCTS,
    REPORTS,
    SERVICES,
    Report,
)
from license_service.web.reports.report_cache import BodyCache, BodyKey
from tests.store.conftest import fresh_postgres_schema, postgres_url_or_skip
from tests.store.sample_builders import PVU, VPC, at, bundled, day, product, service, store
from tests.web.conftest import NOW, World, authorized

TODAY = NOW.date()
DEFAULT = DatePeriod.ending(TODAY)
LONGEST = DatePeriod.ending(TODAY, days=731)
NOVEMBER = DatePeriod(day("2026-11-01"), TODAY)
ONE_DAY = DatePeriod(day("2026-11-03"), day("2026-11-03"))


def fill(database: Database) -> None:
    """Samples on three days, the last one today: products, bundled products, services."""
    store(
        database,
        at("2026-11-02", "10:00"),
        product("a-id", 8, name="Alpha"),
        product("a-id", 3, name="Alpha", metric=PVU),
        product("f-id", 1, name="=Formula, Inc."),
        bundled("db2", 3, ratio="2:3"),
        service("svc-1", 1, service_name="Ingest"),
    )
    store(
        database,
        at("2026-11-03", "10:00"),
        product("b-id", 6, name="Beta"),
        bundled("wkc", 4, ratio="1:1"),
    )
    store(database, at("2026-11-28", "09:00"), product("a-id", 9, name="Alpha 2"))


def fresh(database: Database, report: Report[Any], query: ReportQuery, cluster: ClusterId) -> bytes:
    """The body computed straight from the store, the uncached way."""
    with database.read() as connection:
        return report.body(
            connection,
            cluster_id=cluster,
            period=query.period,
            metric=query.metric,
            format=query.format,
        )


def params(period: DatePeriod, metric: str | None, format: ReportFormat) -> dict[str, str]:
    given = {"format": format}
    if period != DEFAULT:
        given |= {"dateFrom": period.first.isoformat(), "dateTo": period.last.isoformat()}
    if metric is not None:
        given["metricName"] = metric
    return authorized(given)


@pytest.mark.parametrize("format", ["json", "csv"])
def test_cached_bodies_are_byte_identical_to_freshly_computed_ones(
    client: TestClient, database: Database, state: AppState, format: ReportFormat
) -> None:
    fill(database)
    for report in REPORTS:
        for period in (DEFAULT, LONGEST, NOVEMBER, ONE_DAY):
            for metric in (None, VPC, PVU, "NO_SUCH_METRIC"):
                query = ReportQuery(period, metric, format)
                expected = fresh(database, report, query, state.cluster_id)

                first = client.get(report.path, params=params(period, metric, format))
                again = client.get(report.path, params=params(period, metric, format))

                assert first.status_code == again.status_code == 200
                assert first.content == again.content == expected, (report.name, query)


def test_a_stored_sample_shows_in_the_very_next_answer(
    client: TestClient, database: Database
) -> None:
    fill(database)
    asked = [
        ("/products", params(DEFAULT, None, "json")),
        ("/products", params(LONGEST, None, "csv")),
        ("/products", params(DEFAULT, VPC, "json")),
    ]
    before = [client.get(path, params=given).content for path, given in asked]
    assert b"Gamma" not in before[0]

    store(database, at("2026-11-28", "09:05"), product("g-id", 2, name="Gamma"))

    after = [client.get(path, params=given).content for path, given in asked]
    assert all(b"Gamma" in body for body in after)
    assert b'"name":"Alpha 2","id":"a-id","metricName":"VIRTUAL_PROCESSOR_CORE"' in after[0]


def test_the_default_period_moves_with_the_utc_date_without_any_write(
    client: TestClient, database: Database, world: World
) -> None:
    fill(database)
    # A sample of tomorrow is already stored (the sampler's clock ran ahead of ours).
    store(database, at("2026-11-29", "00:05"), product("t-id", 5, name="Tomorrow"))
    assert b"Tomorrow" not in client.get("/products", params=authorized()).content

    world.now += timedelta(days=1)

    assert b"Tomorrow" in client.get("/products", params=authorized()).content


def test_kept_bodies_are_served_without_reading_the_store(
    client: TestClient, database: Database, tmp_path: Path
) -> None:
    fill(database)
    kept = client.get("/products", params=authorized())
    # The store goes away: every read of it would now fail.
    database.dispose()
    for file in tmp_path.glob("license-service.db*"):
        file.unlink()

    again = client.get("/products", params=authorized())
    not_kept = client.get("/products", params=authorized({"format": "csv"}))

    assert again.status_code == 200
    assert again.content == kept.content
    assert not_kept.status_code == 503


class CountingReport:
    """A report whose store query counts its calls and how many run at once."""

    def __init__(self, report: Report[Any], *, pause: float = 0.0) -> None:
        self.report: Report[Any] = dataclasses.replace(report, peaks=self._peaks)
        self._query = report.peaks
        self._pause = pause
        self._lock = threading.Lock()
        self.calls = 0
        self.running = 0
        self.most_running = 0
        self.failures_left = 0

    def _peaks(self, connection: Connection, **arguments: Any) -> list[Any]:
        with self._lock:
            self.calls += 1
            self.running += 1
            self.most_running = max(self.most_running, self.running)
            failing = self.failures_left > 0
            self.failures_left -= failing
        try:
            time.sleep(self._pause)
            if failing:
                raise StorageError("database test: the store is down")
            rows: list[Any] = self._query(connection, **arguments)
            return rows
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
def cache(state: AppState) -> BodyCache:
    """The bodies ``reports`` keeps, for tests to look into."""
    database = state.database
    return BodyCache(lambda: database.data_version)


@pytest.fixture
def reports(state: AppState, cache: BodyCache) -> CachedReports:
    return CachedReports.of_app(state, cache=cache, max_readers=2)


def query(period: DatePeriod = DEFAULT, metric: str | None = None) -> ReportQuery:
    return ReportQuery(period, metric, "json")


def test_concurrent_misses_of_one_key_read_the_store_once(
    reports: CachedReports, database: Database, state: AppState
) -> None:
    fill(database)
    counting = CountingReport(PRODUCTS, pause=0.2)

    async def ask_together() -> list[bytes]:
        return await asyncio.gather(
            *(reports.body(counting.report, query(), today=TODAY) for _ in range(12))
        )

    bodies = asyncio.run(ask_together())

    assert counting.calls == 1
    assert set(bodies) == {fresh(database, PRODUCTS, query(), state.cluster_id)}


def test_no_more_than_max_readers_report_queries_run_at_once(
    reports: CachedReports, database: Database
) -> None:
    fill(database)
    counting = CountingReport(PRODUCTS, pause=0.05)
    metrics = [f"METRIC_{index}" for index in range(8)]

    async def ask_different_keys() -> list[bytes]:
        return await asyncio.gather(
            *(
                reports.body(counting.report, query(metric=metric), today=TODAY)
                for metric in metrics
            )
        )

    assert asyncio.run(ask_different_keys()) == [b"[]"] * 8
    assert counting.calls == 8
    assert counting.most_running == 2


def test_a_failed_read_reaches_every_waiter_is_not_kept_and_is_tried_again(
    reports: CachedReports, database: Database, state: AppState
) -> None:
    fill(database)
    counting = CountingReport(SERVICES, pause=0.1)
    counting.failures_left = 1

    async def ask_twice_together() -> list[bytes | BaseException]:
        return await asyncio.gather(
            reports.body(counting.report, query(), today=TODAY),
            reports.body(counting.report, query(), today=TODAY),
            return_exceptions=True,
        )

    failed = asyncio.run(ask_twice_together())
    recovered = asyncio.run(reports.body(counting.report, query(), today=TODAY))

    assert [type(answer) for answer in failed] == [StorageError, StorageError]
    assert recovered == fresh(database, SERVICES, query(), state.cluster_id)
    assert counting.calls == 2


def test_after_a_write_the_wanted_periods_are_computed_again_in_the_background(
    reports: CachedReports, cache: BodyCache, database: Database, state: AppState
) -> None:
    fill(database)
    products = CountingReport(PRODUCTS)
    bundled_products = CountingReport(BUNDLED_PRODUCTS)
    asked = [
        (products.report, ReportQuery(DEFAULT, None, "json")),
        (products.report, ReportQuery(DEFAULT, None, "csv")),
        (products.report, ReportQuery(LONGEST, VPC, "json")),
        (bundled_products.report, ReportQuery(LONGEST, None, "csv")),
        (products.report, ReportQuery(NOVEMBER, None, "json")),  # not a wanted period
    ]

    async def ask_write_and_warm() -> None:
        for report, wanted in asked:
            await reports.body(report, wanted, today=TODAY)
        # The sampler writes from a worker thread too.
        await asyncio.to_thread(
            store, database, at("2026-11-28", "09:05"), product("g-id", 2, name="Gamma")
        )
        await reports.wait_for_warming()

    asyncio.run(ask_write_and_warm())

    # One store query per report and period, whatever the formats asked for.
    assert products.calls == 4 + 2
    assert bundled_products.calls == 1 + 1
    for report, wanted in asked[:4]:
        key = BodyKey(report.name, state.cluster_id, wanted.period, wanted.metric, wanted.format)
        assert cache.get(key) == fresh(database, report, wanted, state.cluster_id)
    november = BodyKey("products", state.cluster_id, NOVEMBER, None, "json")
    assert cache.get(november) is None


def test_nothing_is_computed_after_a_write_when_no_client_asked(
    reports: CachedReports, cache: BodyCache, database: Database
) -> None:
    counting = CountingReport(PRODUCTS)

    async def ask_other_period_then_write() -> None:
        await reports.body(counting.report, query(NOVEMBER), today=TODAY)
        await asyncio.to_thread(fill, database)
        await reports.wait_for_warming()

    asyncio.run(ask_other_period_then_write())

    assert counting.calls == 1
    assert cache.entries == 0


def test_a_kept_body_is_the_same_object_until_a_write(
    reports: CachedReports, database: Database
) -> None:
    fill(database)
    counting = CountingReport(PRODUCTS)

    async def ask_three_times() -> list[bytes]:
        first = await reports.body(counting.report, query(), today=TODAY)
        second = await reports.body(counting.report, query(), today=TODAY)
        await asyncio.to_thread(store, database, at("2026-11-28", "09:10"), product("a-id", 1))
        third = await reports.body(counting.report, query(), today=TODAY)
        return [first, second, third]

    first, second, third = asyncio.run(ask_three_times())

    assert second is first
    assert third is not first
    assert counting.calls == 2


@pytest.mark.postgres
def test_while_other_replicas_writes_cannot_be_heard_warming_ends_after_one_round(
    state: AppState,
) -> None:
    with fresh_postgres_schema(postgres_url_or_skip()) as url:
        database = Database.open(url)
        try:
            fill(database)
            notifications = database.notify_other_replicas()
            assert notifications.wait_listening(5.0)
            replica = dataclasses.replace(state, database=database)
            reports = CachedReports.of_app(replica, cache=BodyCache(lambda: database.data_version))
            counting = CountingReport(PRODUCTS)

            async def ask_lose_notifications_and_write() -> None:
                await reports.body(counting.report, query(), today=TODAY)
                notifications.stop()  # as when the listening connection is lost
                await asyncio.to_thread(
                    store, database, at("2026-11-28", "09:05"), product("g-id", 2, name="G")
                )
                # Every read now counts as after a write: warming must not go round for ever.
                await asyncio.wait_for(reports.wait_for_warming(), timeout=5.0)

            asyncio.run(ask_lose_notifications_and_write())
        finally:
            database.dispose()

    assert counting.calls <= 3
