"""One tick of the sampler: a stored sample, a recorded gap, or a counted failure."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from license_service.metering.settings import MeteringSettings
from license_service.sampling.sampler import Sampler
from license_service.store.database import Database
from license_service.store.tables import missed_samples, samples, settings_history
from tests.sampling.doubles import (
    START,
    FixedSource,
    FlakyDatabase,
    daily_peaks,
    state,
    stored_sample_times,
    stored_samples,
)


def sampler(
    source: FixedSource,
    database: Database | FlakyDatabase,
    settings: MeteringSettings | None = None,
) -> Sampler:
    return Sampler(
        source,
        database,
        settings=lambda: settings or MeteringSettings(),
        clock=lambda: START,
    )


def missed(database: Database) -> list[tuple[str, str]]:
    with database.connect() as connection:
        rows = connection.execute(select(missed_samples.c.missed_at, missed_samples.c.reason))
        return [(row.missed_at.isoformat(), row.reason) for row in rows]


def test_a_synchronised_current_view_is_stored_as_a_sample(database: Database) -> None:
    tick = sampler(FixedSource(state()), database)

    outcome = tick.take_sample(START)

    status = tick.status()
    assert outcome == "sampled"
    assert stored_samples(database) == [(START, 6)]
    assert daily_peaks(database) == {"2026-03-04": 6}
    assert (status.samples_taken, status.last_sample_at, status.last_error) == (1, START, None)
    assert status.last_measurement is not None
    assert [row.quantity for row in status.last_measurement.products] == [6]
    assert (status.source, status.synced) == ("kubernetes", True)


def test_the_sample_records_the_settings_in_force(database: Database) -> None:
    sampler(FixedSource(state()), database).take_sample(START)

    with database.connect() as connection:
        rows = list(connection.execute(select(settings_history)))
    assert [(row.changed_at, row.threads_per_core) for row in rows] == [(START, 1)]


def test_the_settings_in_force_are_logged_in_words_an_operator_reads(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    settings = MeteringSettings()
    tick = Sampler(FixedSource(state()), database, settings=lambda: settings, clock=lambda: START)

    with caplog.at_level(logging.INFO, logger="license_service.sampling.sampler"):
        tick.take_sample(START)
        settings = MeteringSettings(threads_per_core=2, node_cpu_capping=False)
        tick.take_sample(START + timedelta(minutes=5))

    logged = [r.getMessage() for r in caplog.records if "Metering settings" in r.getMessage()]
    assert len(logged) == 2, logged
    assert "MeteringSettings(" not in "\n".join(logged)
    assert "threadsPerCore 1, node CPU capping on (at each node's capacity)" in logged[0]
    assert "default PVU per core 70" in logged[0]
    assert "threadsPerCore 1 -> 2" in logged[1]
    assert "node CPU capping on -> off" in logged[1]


def test_an_unsynchronised_source_yields_a_missed_sample_and_no_sample(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    source = FixedSource(state(synced=False, last_error="list pods: 403 Forbidden"))
    tick = sampler(source, database)

    outcome = tick.take_sample(START)

    ((missed_at, reason),) = missed(database)
    assert outcome == "missed"
    assert stored_sample_times(database) == []
    assert missed_at == START.isoformat()
    assert "not synchronised" in reason
    assert "403 Forbidden" in reason
    assert tick.status().samples_missed == 1
    assert tick.status().synced is False
    assert "not synchronised" in (tick.status().last_error or "")
    assert any("No sample at" in record.getMessage() for record in caplog.records)


def test_a_view_older_than_fifteen_minutes_yields_a_missed_sample(database: Database) -> None:
    tick = sampler(FixedSource(state(observed_at=START - timedelta(minutes=16))), database)

    outcome = tick.take_sample(START)

    ((_, reason),) = missed(database)
    assert outcome == "missed"
    assert stored_sample_times(database) == []
    assert "16 minutes old" in reason


def test_a_view_fifteen_minutes_old_is_still_sampled(database: Database) -> None:
    tick = sampler(FixedSource(state(observed_at=START - timedelta(minutes=15))), database)

    assert tick.take_sample(START) == "sampled"
    assert stored_sample_times(database) == [START]


def test_a_failing_store_is_logged_and_counted_and_the_next_tick_works(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    tick = sampler(FixedSource(state()), FlakyDatabase(database, failures=1))
    later = START + timedelta(minutes=5)

    with caplog.at_level(logging.WARNING):
        first = tick.take_sample(START)
    failed_status = tick.status()
    second = tick.take_sample(later)

    assert (first, second) == ("failed", "sampled")
    assert failed_status.ticks_failed == 1
    assert "disk I/O error" in (failed_status.last_error or "")
    # An outage of the store is expected: one warning line with its cause, no traceback.
    (record,) = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert record.levelno == logging.WARNING
    assert "disk I/O error" in record.getMessage()
    assert record.exc_info is None
    assert stored_sample_times(database) == [later]
    assert tick.status().last_error is None
    assert (tick.status().ticks_failed, tick.status().samples_taken) == (1, 1)


def test_a_bug_in_the_source_is_a_failed_tick_not_a_crash(database: Database) -> None:
    tick = sampler(FixedSource(state(), failures=1), database)

    assert tick.take_sample(START) == "failed"
    assert "RuntimeError" in (tick.status().last_error or "")
    assert tick.take_sample(START + timedelta(minutes=5)) == "sampled"


def test_a_settings_change_applies_from_the_next_sample_and_never_backwards(
    database: Database,
) -> None:
    settings = [MeteringSettings(threads_per_core=1)]
    source = FixedSource(state())
    tick = Sampler(
        source,
        database,
        settings=lambda: settings[-1],
        clock=lambda: START,
    )
    tomorrow = START + timedelta(days=1)

    tick.take_sample(START)
    settings.append(MeteringSettings(threads_per_core=2))
    tick.take_sample(START + timedelta(minutes=5))
    source.state = state(observed_at=tomorrow)
    tick.take_sample(tomorrow)

    assert stored_samples(database) == [
        (START, 6),
        (START + timedelta(minutes=5), 3),
        (tomorrow, 3),
    ]
    # The earlier day's peak keeps the value measured under the earlier setting.
    assert daily_peaks(database) == {
        START.date().isoformat(): 6,
        (START.date() + timedelta(days=1)).isoformat(): 3,
    }
    with database.connect() as connection:
        history = [
            (row.changed_at, row.threads_per_core)
            for row in connection.execute(
                select(settings_history).order_by(settings_history.c.changed_at)
            )
        ]
    assert history == [(START, 1), (START + timedelta(minutes=5), 2)]


def test_a_sample_is_stored_with_the_configured_interval(database: Database) -> None:
    tick = Sampler(
        FixedSource(state()),
        database,
        settings=MeteringSettings,
        clock=lambda: START,
        interval=timedelta(minutes=1),
    )

    tick.take_sample(START)

    with database.connect() as connection:
        assert list(connection.scalars(select(samples.c.interval_seconds))) == [60]


def test_the_status_before_any_tick_shows_nothing_taken(database: Database) -> None:
    status = sampler(FixedSource(state()), database).status()

    assert (status.samples_taken, status.last_sample_at, status.synced) == (0, None, False)
    assert status.interval == timedelta(minutes=5)


def test_a_first_sample_is_stored_at_start_when_the_view_is_usable(database: Database) -> None:
    starting = sampler(FixedSource(state()), database)

    assert starting.take_first_sample(START) is True

    assert stored_samples(database) == [(START, 6)]
    assert starting.status().samples_taken == 1


def test_no_first_sample_and_no_gap_while_the_source_is_still_syncing(
    database: Database,
) -> None:
    starting = sampler(FixedSource(state(synced=False)), database)

    assert starting.take_first_sample(START) is False

    assert stored_samples(database) == []
    assert missed(database) == []
    assert starting.status().samples_missed == 0
