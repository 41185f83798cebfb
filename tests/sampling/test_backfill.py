"""Backfill: history from the simulated cluster, batched, with progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from license_service.cluster.simulated import SimulatedCluster
from license_service.metering.measuring import measure
from license_service.metering.settings import MeteringSettings
from license_service.sampling.backfill import backfill
from license_service.sampling.schedule import boundaries
from license_service.store.database import Database
from license_service.store.tables import settings_history
from tests.sampling.doubles import daily_peaks, stored_sample_times

MIDNIGHT = datetime(2026, 3, 2, tzinfo=UTC)
CLOUD_PAK_ID = "c8b82d189e7545f0892db9ef2731b90d"
CLUSTER = SimulatedCluster(seed=11)


def test_backfill_stores_a_sample_at_every_interval_and_reports_progress(
    database: Database,
) -> None:
    reported: list[tuple[int, int]] = []

    stored = backfill(
        database,
        CLUSTER.view_at,
        cluster_id=CLUSTER.cluster_id,
        start=MIDNIGHT,
        end=MIDNIGHT + timedelta(days=2),
        settings=MeteringSettings(),
        progress=lambda done, total: reported.append((done, total)),
    )

    times = stored_sample_times(database)
    assert stored == len(times) == 2 * 288
    assert (times[0], times[-1]) == (MIDNIGHT, MIDNIGHT + timedelta(days=2, minutes=-5))
    assert reported == [(0, 576), (288, 576), (576, 576)]


def test_backfill_starts_at_the_first_aligned_instant_and_batches_as_asked(
    database: Database,
) -> None:
    reported: list[tuple[int, int]] = []

    stored = backfill(
        database,
        CLUSTER.view_at,
        cluster_id=CLUSTER.cluster_id,
        start=MIDNIGHT + timedelta(minutes=2),
        end=MIDNIGHT + timedelta(hours=1),
        settings=MeteringSettings(),
        interval=timedelta(minutes=15),
        progress=lambda done, total: reported.append((done, total)),
        batch_size=2,
    )

    assert stored == 3
    assert stored_sample_times(database)[0] == MIDNIGHT + timedelta(minutes=15)
    assert reported == [(0, 3), (2, 3), (3, 3)]


def test_backfilled_daily_peaks_are_the_peaks_of_the_measured_views(database: Database) -> None:
    settings = MeteringSettings(threads_per_core=2)
    end = MIDNIGHT + timedelta(days=3)

    backfill(
        database,
        CLUSTER.view_at,
        cluster_id=CLUSTER.cluster_id,
        start=MIDNIGHT,
        end=end,
        settings=settings,
    )

    expected: dict[str, int] = {}
    seen: set[int] = set()
    for instant in boundaries(MIDNIGHT, end, timedelta(minutes=5)):
        (row,) = (
            row
            for row in measure(CLUSTER.view_at(instant), settings).products
            if row.id == CLOUD_PAK_ID
        )
        day = instant.date().isoformat()
        expected[day] = max(expected.get(day, 0), row.quantity)
        seen.add(row.quantity)
    assert daily_peaks(database, CLOUD_PAK_ID) == expected
    # The usage moved during the period: reusing a measurement too long would show.
    assert len(seen) > 2


def test_backfill_records_its_settings_as_in_force_from_the_first_sample(
    database: Database,
) -> None:
    backfill(
        database,
        CLUSTER.view_at,
        cluster_id=CLUSTER.cluster_id,
        start=MIDNIGHT,
        end=MIDNIGHT + timedelta(hours=1),
        settings=MeteringSettings(threads_per_core=4),
    )

    with database.connect() as connection:
        rows = list(connection.execute(select(settings_history)))
    assert [(row.changed_at, row.threads_per_core) for row in rows] == [(MIDNIGHT, 4)]


def test_an_empty_period_stores_nothing_and_reports_zero_of_zero(database: Database) -> None:
    reported: list[tuple[int, int]] = []

    stored = backfill(
        database,
        CLUSTER.view_at,
        cluster_id=CLUSTER.cluster_id,
        start=MIDNIGHT,
        end=MIDNIGHT,
        settings=MeteringSettings(),
        progress=lambda done, total: reported.append((done, total)),
    )

    assert stored == 0
    assert stored_sample_times(database) == []
    assert reported == [(0, 0)]
