"""Settings history: a row per change of the settings that change results, with its instant."""

from __future__ import annotations

from datetime import datetime

import pytest

from license_service.errors import StorageError
from license_service.metering.settings import MeteringSettings
from license_service.store.database import Database
from license_service.store.settings_history import (
    SettingsChange,
    record_settings,
    settings_history,
)
from tests.store.sample_builders import CLUSTER, OTHER_CLUSTER, at

DEFAULTS = MeteringSettings()
HYPER_THREADED = MeteringSettings(threads_per_core=2)
UNCAPPED = MeteringSettings(
    threads_per_core=2, node_cpu_capping=False, capping_source="allocatable"
)


def test_settings_are_recorded_only_when_they_change(db: Database) -> None:
    with db.begin() as connection:
        changed = [
            record_settings(connection, cluster_id=CLUSTER, at=at(when), settings=settings)
            for when, settings in (
                ("2026-11-01", DEFAULTS),
                ("2026-11-02", DEFAULTS),
                ("2026-11-03", HYPER_THREADED),
                ("2026-11-04", HYPER_THREADED),
                ("2026-11-05", DEFAULTS),
            )
        ]
        history = settings_history(connection, cluster_id=CLUSTER, until=at("2026-12-01"))

    assert changed == [True, False, True, False, True]
    assert history == [
        SettingsChange(at("2026-11-01"), DEFAULTS),
        SettingsChange(at("2026-11-03"), HYPER_THREADED),
        SettingsChange(at("2026-11-05"), DEFAULTS),
    ]


def test_every_setting_that_changes_results_is_kept(db: Database) -> None:
    custom = MeteringSettings(
        threads_per_core=4,
        node_cpu_capping=False,
        capping_source="allocatable",
        default_pvu_per_core=100,
    )
    with db.begin() as connection:
        record_settings(connection, cluster_id=CLUSTER, at=at("2026-11-01"), settings=DEFAULTS)
        record_settings(connection, cluster_id=CLUSTER, at=at("2026-11-02"), settings=custom)
        history = settings_history(connection, cluster_id=CLUSTER, until=at("2026-11-02"))

    assert [change.settings for change in history] == [DEFAULTS, custom]


def test_history_stops_at_the_instant_asked_for(db: Database) -> None:
    with db.begin() as connection:
        record_settings(connection, cluster_id=CLUSTER, at=at("2026-11-01"), settings=DEFAULTS)
        record_settings(connection, cluster_id=CLUSTER, at=at("2026-11-03"), settings=UNCAPPED)
        history = settings_history(connection, cluster_id=CLUSTER, until=at("2026-11-02"))

    assert history == [SettingsChange(at("2026-11-01"), DEFAULTS)]


def test_each_cluster_has_its_own_history(db: Database) -> None:
    with db.begin() as connection:
        record_settings(connection, cluster_id=CLUSTER, at=at("2026-11-01"), settings=DEFAULTS)
        first_of_other = record_settings(
            connection, cluster_id=OTHER_CLUSTER, at=at("2026-11-02"), settings=DEFAULTS
        )
        history = settings_history(connection, cluster_id=OTHER_CLUSTER, until=at("2026-12-01"))

    assert first_of_other is True
    assert history == [SettingsChange(at("2026-11-02"), DEFAULTS)]


def test_a_change_older_than_the_latest_recorded_is_refused(db: Database) -> None:
    with db.begin() as connection:
        record_settings(connection, cluster_id=CLUSTER, at=at("2026-11-05"), settings=DEFAULTS)

    with pytest.raises(StorageError, match="time order"), db.begin() as connection:
        record_settings(connection, cluster_id=CLUSTER, at=at("2026-11-04"), settings=UNCAPPED)


def test_a_naive_change_time_is_refused(db: Database) -> None:
    with pytest.raises(StorageError, match="no time zone"), db.begin() as connection:
        record_settings(connection, cluster_id=CLUSTER, at=datetime(2026, 11, 5), settings=DEFAULTS)
