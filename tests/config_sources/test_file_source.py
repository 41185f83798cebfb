"""The --config file followed live: edits apply, a bad file keeps the previous configuration."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from license_service.config_sources.file_source import LicensingConfigWatcher
from license_service.configuration.ibmlicensing import LicensingConfig
from license_service.errors import ConfigurationError

START = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
HEADER = """apiVersion: operator.ibm.com/v1alpha1
kind: IBMLicensing
metadata:
  name: instance
spec:
"""
URL_TOKENS_OFF = HEADER + "  features:\n    auth:\n      urlBasedEnabled: false\n"
THREADS_2 = HEADER + "  features:\n    hyperThreading:\n      threadsPerCore: 2\n"
EMPTY_SPEC = HEADER + "  {}\n"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "ibmlicensing.yaml"
    path.write_text(URL_TOKENS_OFF)
    return path


def test_without_a_file_the_defaults_are_in_force_and_never_change(clock: Clock) -> None:
    watcher = LicensingConfigWatcher.load(None, clock=clock)

    assert watcher.current() == LicensingConfig()
    assert watcher.check() is False
    assert (watcher.problem(), watcher.warnings()) == (None, [])


def test_the_file_is_read_at_load(config_file: Path, clock: Clock) -> None:
    watcher = LicensingConfigWatcher.load(config_file, clock=clock)

    assert watcher.current().url_based_enabled is False


def test_an_invalid_file_at_load_stops_the_start(tmp_path: Path, clock: Clock) -> None:
    invalid = Path(__file__).parent.parent / "fixtures" / "config" / "ibmlicensing-invalid.yaml"

    with pytest.raises(ConfigurationError, match="threadsPerCore"):
        LicensingConfigWatcher.load(invalid, clock=clock)


def test_removing_the_line_turns_url_tokens_back_on(config_file: Path, clock: Clock) -> None:
    watcher = LicensingConfigWatcher.load(config_file, clock=clock)
    config_file.write_text(EMPTY_SPEC)

    assert watcher.check() is True
    assert watcher.current().url_based_enabled is True


def test_an_edit_of_the_metering_settings_applies_at_the_next_check(
    config_file: Path, clock: Clock
) -> None:
    watcher = LicensingConfigWatcher.load(config_file, clock=clock)
    config_file.write_text(THREADS_2)

    watcher.check()

    assert watcher.current().metering.threads_per_core == 2


def test_an_unchanged_file_is_not_applied_again(config_file: Path, clock: Clock) -> None:
    changes: list[LicensingConfig] = []
    watcher = LicensingConfigWatcher.load(config_file, clock=clock)
    watcher.add_listener(changes.append)

    assert watcher.check() is False
    assert changes == []


def test_a_change_is_told_to_the_listener_and_logged_by_field(
    config_file: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    changes: list[LicensingConfig] = []
    watcher = LicensingConfigWatcher.load(config_file, clock=clock)
    watcher.add_listener(changes.append)
    config_file.write_text(EMPTY_SPEC)

    with caplog.at_level(logging.INFO):
        watcher.check()

    assert [config.url_based_enabled for config in changes] == [True]
    assert "spec.features.auth.urlBasedEnabled: false -> true" in caplog.text


def test_an_invalid_edit_keeps_the_previous_configuration_and_says_why(
    config_file: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    watcher = LicensingConfigWatcher.load(config_file, clock=clock)
    config_file.write_text(HEADER + "  features:\n    auth:\n      urlBasedEnabled: maybe\n")

    with caplog.at_level(logging.ERROR):
        assert watcher.check() is False

    assert watcher.current().url_based_enabled is False
    problem = watcher.problem()
    assert problem is not None
    assert "urlBasedEnabled" in problem
    assert f"the configuration read at {START.isoformat()} stays in force" in problem
    assert watcher.warnings() == [problem]
    assert len(caplog.records) == 1


def test_the_same_invalid_content_is_reported_once(
    config_file: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    watcher = LicensingConfigWatcher.load(config_file, clock=clock)
    config_file.write_text("spec: [unclosed")

    with caplog.at_level(logging.ERROR):
        watcher.check()
        watcher.check()

    assert len(caplog.records) == 1


def test_a_fixed_file_clears_the_problem(config_file: Path, clock: Clock) -> None:
    watcher = LicensingConfigWatcher.load(config_file, clock=clock)
    config_file.write_text("kind: Nothing")
    watcher.check()
    config_file.write_text(THREADS_2)

    assert watcher.check() is True
    assert watcher.problem() is None
    assert (watcher.current().url_based_enabled, watcher.current().metering.threads_per_core) == (
        True,
        2,
    )


def test_a_deleted_file_keeps_the_previous_configuration(config_file: Path, clock: Clock) -> None:
    watcher = LicensingConfigWatcher.load(config_file, clock=clock)
    config_file.unlink()

    assert watcher.check() is False
    assert watcher.current().url_based_enabled is False
    assert "configuration file not found" in (watcher.problem() or "")


def test_ignored_fields_are_shown_as_warnings(config_file: Path, clock: Clock) -> None:
    config_file.write_text(HEADER + "  colour: blue\n")
    watcher = LicensingConfigWatcher.load(config_file, clock=clock)

    assert watcher.warnings() == ["IBMLicensing 'instance': ignored 1 unknown field: spec.colour"]


def test_fields_of_ibms_crd_are_logged_once_at_debug_level_and_not_warned_about(
    config_file: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    ibm_fields = HEADER + "  datasource: datacollector\n  license:\n    accept: true\n"
    config_file.write_text(ibm_fields)

    with caplog.at_level(logging.DEBUG, logger="license_service.config_sources"):
        watcher = LicensingConfigWatcher.load(config_file, clock=clock)
        config_file.write_text(ibm_fields + "  logLevel: DEBUG\n")
        assert watcher.check()

    assert watcher.warnings() == []
    noted = [record for record in caplog.records if "not applicable" in record.getMessage()]
    assert [record.levelno for record in noted] == [logging.DEBUG]
    assert "spec.datasource, spec.license" in noted[0].getMessage()
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


def test_a_problem_names_the_time_of_the_configuration_kept(
    config_file: Path, clock: Clock
) -> None:
    watcher = LicensingConfigWatcher.load(config_file, clock=clock)
    clock.now += timedelta(hours=1)
    config_file.write_text(THREADS_2)
    watcher.check()
    config_file.write_text("")

    watcher.check()

    later = (START + timedelta(hours=1)).isoformat()
    assert f"the configuration read at {later} stays in force" in (watcher.problem() or "")
