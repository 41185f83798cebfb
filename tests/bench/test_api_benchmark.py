"""Benchmark 6's store: nothing dated after ``until``, and the samples a server stores counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.api_benchmark import samples_stored
from bench.history import HistoryStore, fill_history
from sqlalchemy import func, select

from license_service.store.database import Database, sqlite_url
from license_service.store.tables import product_daily_peaks, sampling_coverage
from tests.store.sample_builders import at, product, store


def test_a_history_ending_today_holds_nothing_later_than_until(tmp_path: Path) -> None:
    until = at("2026-11-28", "07:03:20")
    database = Database.open(sqlite_url(tmp_path / "history.db"))
    try:
        fill_history(database, products=3, days=2, last_day=until.date(), until=until)
        with database.read() as connection:
            latest_names = connection.scalar(select(func.max(product_daily_peaks.c.names_at)))
            latest_coverage = connection.scalar(select(func.max(sampling_coverage.c.ended_at)))
            yesterday = connection.scalar(
                select(func.max(product_daily_peaks.c.names_at)).where(
                    product_daily_peaks.c.day < until.date()
                )
            )
    finally:
        database.dispose()

    assert latest_names == latest_coverage == until
    assert yesterday == at("2026-11-27", "23:55")


def test_samples_stored_counts_the_samples_from_an_instant_on(tmp_path: Path) -> None:
    with HistoryStore(products=3, days=1, directory=tmp_path) as history:
        database = Database.open(history.database_url)
        now = datetime.now(UTC).replace(microsecond=0)
        try:
            for minutes in (-10, 0, 5):
                store(database, now + timedelta(minutes=minutes), product("db2", 1))
        finally:
            database.dispose()

        assert samples_stored(history, now) == 2
        assert samples_stored(history, now + timedelta(minutes=6)) == 0
