"""Retention: samples go after 62 days, daily peaks after 731 days, and nothing else goes."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Connection, select

from license_service.errors import ConfigurationError
from license_service.metering.periods import DatePeriod
from license_service.metering.usage_rows import PRODUCT_ROWS, SERVICE_ROWS
from license_service.store.database import Database
from license_service.store.retention import PruneResult, prune
from license_service.store.sampling_coverage import record_missed_sample
from license_service.store.tables import missed_samples, samples, sampling_coverage
from tests.store.daily_peaks import daily_peaks
from tests.store.sample_builders import CLUSTER, at, bundled, product, service, store

NOW = at("2027-01-10", "12:00")
# 62 days before NOW is 2026-11-09 12:00; the last 731 days start on 2025-01-10.
EVERYTHING = DatePeriod(date(2024, 1, 1), date(2027, 12, 31))


def store_all_kinds(db: Database, when: str, time: str) -> None:
    store(db, at(when, time), product("db2", 1), bundled("mq", 1), service("api", 1))


def instants(connection: Connection, column: object) -> list[str]:
    return sorted(value.isoformat() for value in connection.scalars(select(column)))  # type: ignore[call-overload]


@pytest.fixture
def history(db: Database) -> Database:
    for when, time in (
        ("2025-01-09", "23:59"),
        ("2025-01-10", "00:00"),
        ("2026-11-09", "11:59"),
        ("2026-11-09", "12:00"),
    ):
        store_all_kinds(db, when, time)
    with db.begin() as connection:
        for when in (at("2025-01-09", "23:00"), at("2025-01-10", "01:00")):
            record_missed_sample(
                connection, cluster_id=CLUSTER, at=when, reason="view older than 15 minutes"
            )
    return db


def test_prune_removes_exactly_the_rows_past_retention(history: Database) -> None:
    with history.begin() as connection:
        removed = prune(connection, now=NOW)

    assert removed == PruneResult(
        samples=3, sample_rows=9, daily_peaks=3, coverage_intervals=1, missed_samples=1
    )
    assert removed.total == 17
    with history.begin() as connection:
        assert instants(connection, samples.c.taken_at) == ["2026-11-09T12:00:00+00:00"]
        assert instants(connection, sampling_coverage.c.started_at) == [
            "2025-01-10T00:00:00+00:00",
            "2026-11-09T11:59:00+00:00",
        ]
        assert instants(connection, missed_samples.c.missed_at) == ["2025-01-10T01:00:00+00:00"]
        peak_days = [
            row.day
            for row in daily_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=EVERYTHING)
        ]
        service_peak_days = [
            row.day
            for row in daily_peaks(connection, SERVICE_ROWS, cluster_id=CLUSTER, period=EVERYTHING)
        ]
    assert peak_days == [date(2025, 1, 10), date(2026, 11, 9)]
    assert service_peak_days == peak_days


def test_pruning_again_removes_nothing(history: Database) -> None:
    with history.begin() as connection:
        prune(connection, now=NOW)
    with history.begin() as connection:
        again = prune(connection, now=NOW)

    assert again.total == 0


def test_retention_periods_can_be_configured(history: Database) -> None:
    with history.begin() as connection:
        removed = prune(connection, now=NOW, sample_days=1, peak_days=1)

    assert removed.samples == 4
    assert removed.daily_peaks == 9
    with history.begin() as connection:
        assert (
            list(daily_peaks(connection, PRODUCT_ROWS, cluster_id=CLUSTER, period=EVERYTHING)) == []
        )


def test_a_retention_under_one_day_is_refused(db: Database) -> None:
    with pytest.raises(ConfigurationError, match="at least 1 day"), db.begin() as connection:
        prune(connection, now=NOW, sample_days=0)
