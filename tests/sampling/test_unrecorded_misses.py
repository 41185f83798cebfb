"""Reasons of missed samples that the store could not take survive a restart (issue 11.9).

A sampler whose store fails (a full disk, a stopped PostgreSQL) keeps the reasons in
the data directory's ``unrecorded-misses.json``; a new sampler (after a restart)
reads them and records them with its first sample, so the gap says why. On SQLite
and on PostgreSQL. The file keeps its size once written, so it can be rewritten on
a full disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from license_service.metering.settings import MeteringSettings
from license_service.sampling.sampler import Sampler
from license_service.sampling.unrecorded_misses import (
    FILE_SIZE,
    MAX_ERROR,
    UnrecordedMiss,
    UnrecordedMisses,
)
from license_service.store.database import Database, sqlite_url
from license_service.store.sampling_gaps import gaps, sampling_summary
from tests.sampling.doubles import CLUSTER, START, FixedSource, FlakyDatabase, state
from tests.store.conftest import fresh_postgres_schema, postgres_url_or_skip

FIVE = timedelta(minutes=5)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database.open(sqlite_url(tmp_path / "store.db"))
        yield database
        database.dispose()
        return
    with fresh_postgres_schema(postgres_url_or_skip()) as url:
        database = Database.open(url)
        yield database
        database.dispose()


def sampler(database: Database | FlakyDatabase, kept: UnrecordedMisses) -> Sampler:
    return Sampler(
        FixedSource(state(observed_at=START + timedelta(hours=1))),
        database,
        settings=MeteringSettings,
        clock=lambda: START,
        kept_misses=kept,
    )


def test_reasons_the_store_could_not_take_are_recorded_after_a_restart(
    store: Database, tmp_path: Path
) -> None:
    failing = FlakyDatabase(store)
    first = sampler(failing, UnrecordedMisses(tmp_path / "unrecorded-misses.json"))
    assert first.take_sample(START) == "sampled"
    failing.failures = 3  # the disk fills up
    assert [first.take_sample(START + step * FIVE) for step in (1, 2, 3)] == ["failed"] * 3
    del first  # the service stops (or is killed): what it held in memory is gone

    restarted = sampler(store, UnrecordedMisses(tmp_path / "unrecorded-misses.json"))
    assert restarted.take_sample(START + 4 * FIVE) == "sampled"

    with store.read() as connection:
        found = gaps(connection, cluster_id=CLUSTER, start=START, end=START + 4 * FIVE)
        summary = sampling_summary(
            connection, cluster_id=CLUSTER, start=START, end=START + 4 * FIVE + FIVE / 2
        )
    assert [(gap.start, gap.end, gap.samples_missed) for gap in found] == [
        (START, START + 4 * FIVE, 3)
    ]
    assert found[0].reason == (
        "3 sample(s) from 2026-03-04T10:05:00Z to 2026-03-04T10:15:00Z not stored: "
        "database sqlite:///store.db: disk I/O error"
    )
    assert (summary.samples_taken, summary.samples_missed, summary.samples_expected) == (2, 3, 5)
    assert UnrecordedMisses(tmp_path / "unrecorded-misses.json").load() == []


def test_the_file_keeps_its_size_and_the_newest_reasons_when_they_do_not_fit(
    tmp_path: Path,
) -> None:
    kept = UnrecordedMisses(tmp_path / "unrecorded-misses.json")
    misses = [
        UnrecordedMiss("failed", START + step * FIVE, START + step * FIVE, 1, "x" * MAX_ERROR)
        for step in range(300)
    ]

    kept.save(misses)

    assert (tmp_path / "unrecorded-misses.json").stat().st_size == FILE_SIZE
    loaded = kept.load()
    assert loaded == misses[-len(loaded) :]
    assert 100 <= len(loaded) < 300
    kept.clear()
    assert (tmp_path / "unrecorded-misses.json").stat().st_size == FILE_SIZE
    assert kept.load() == []


def test_a_file_that_is_not_ours_is_ignored_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "unrecorded-misses.json").write_text('{"missed": [{"kind": "eaten"}]}')

    assert UnrecordedMisses(tmp_path / "unrecorded-misses.json").load() == []
    assert "is not as this service writes it" in caplog.text


def test_the_sampler_counts_failed_ticks_and_skipped_instants_as_missed(
    store: Database, tmp_path: Path
) -> None:
    tick = sampler(FlakyDatabase(store, failures=1), UnrecordedMisses(tmp_path / "kept.json"))

    assert tick.take_sample(START) == "failed"
    assert tick.take_sample(START + FIVE) == "sampled"

    status = tick.status()
    assert (status.samples_taken, status.samples_missed, status.ticks_failed) == (1, 1, 1)
