"""The demo's history: hourly up to the last full hour, then every interval; never twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from license_service.cluster.simulated import SimulatedCluster
from license_service.metering.settings import MeteringSettings
from license_service.runtime.history import HistorySegment, fill_history, plan_history
from license_service.store.database import Database, sqlite_url
from license_service.store.tables import samples

NOW = datetime(2026, 11, 28, 10, 17, 30, tzinfo=UTC)
HOUR = timedelta(hours=1)
FIVE_MINUTES = timedelta(minutes=5)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_history_is_hourly_up_to_the_last_full_hour_then_at_the_interval() -> None:
    plan = plan_history(now=NOW, days=2, latest=None, live_interval=FIVE_MINUTES)

    assert plan == [
        HistorySegment(NOW - timedelta(days=2), at(28, 10), HOUR),
        HistorySegment(at(28, 10), NOW, FIVE_MINUTES),
    ]
    # 11:00 on the 26th to 09:00 on the 28th, then 10:00, 10:05, 10:10, 10:15.
    assert [segment.samples for segment in plan] == [47, 4]


def test_a_rerun_fills_only_the_time_after_the_newest_sample() -> None:
    plan = plan_history(now=NOW, days=90, latest=at(27, 22), live_interval=FIVE_MINUTES)

    assert plan[0].start > at(27, 22)
    assert [segment.samples for segment in plan] == [11, 4]


def test_a_rerun_at_once_fills_nothing() -> None:
    assert plan_history(now=NOW, days=90, latest=at(28, 10, 15), live_interval=FIVE_MINUTES) == []


def test_a_one_second_interval_still_backfills_every_five_minutes() -> None:
    plan = plan_history(now=NOW, days=1, latest=None, live_interval=timedelta(seconds=1))

    assert plan[-1] == HistorySegment(at(28, 10), NOW, FIVE_MINUTES)


def test_an_interval_longer_than_an_hour_is_kept_for_the_whole_history() -> None:
    two_hours = timedelta(hours=2)

    plan = plan_history(now=NOW, days=1, latest=None, live_interval=two_hours)

    assert {segment.interval for segment in plan} == {two_hours}
    assert sum(segment.samples for segment in plan) == 12


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    opened = Database.open(sqlite_url(tmp_path / "store.db"))
    yield opened
    opened.dispose()


def stored(database: Database) -> int:
    with database.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(samples)) or 0)


def test_filling_twice_stores_the_history_once(database: Database) -> None:
    cluster = SimulatedCluster(seed=3)
    progress: list[tuple[int, int]] = []

    first = fill_history(
        database,
        cluster,
        now=NOW,
        days=1,
        settings=MeteringSettings(),
        live_interval=FIVE_MINUTES,
        progress=lambda done, total: progress.append((done, total)),
    )
    second = fill_history(
        database,
        cluster,
        now=NOW,
        days=1,
        settings=MeteringSettings(),
        live_interval=FIVE_MINUTES,
    )

    assert (first, second, stored(database)) == (27, 0, 27)
    assert progress[0] == (0, 27)
    assert progress[-1] == (27, 27)
