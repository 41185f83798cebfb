"""The configuration from the IBMLicensing resource: applied live, invalid documents refused."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from license_service.config_sources.resource_source import LicensingResourceConfig
from license_service.configuration.ibmlicensing import LicensingConfig
from tests.auth.clocks import FakeClock


def resource(spec: dict[str, Any], *, name: str = "instance") -> dict[str, Any]:
    return {
        "apiVersion": "operator.ibm.com/v1alpha1",
        "kind": "IBMLicensing",
        "metadata": {"name": name},
        "spec": spec,
    }


URL_TOKENS_OFF = resource({"features": {"auth": {"urlBasedEnabled": False}}})
INVALID = resource({"features": {"auth": {"urlBasedEnabled": "maybe"}}})


@pytest.fixture
def config() -> LicensingResourceConfig:
    return LicensingResourceConfig(clock=FakeClock())


def test_the_defaults_are_in_force_without_a_resource(config: LicensingResourceConfig) -> None:
    config.receive(None)

    assert config.current() == LicensingConfig()
    assert config.problem() is None
    assert not config.started_invalid


def test_a_valid_change_applies_and_calls_the_listeners(config: LicensingResourceConfig) -> None:
    seen: list[LicensingConfig] = []
    config.add_listener(seen.append)
    config.receive(None)

    config.receive(URL_TOKENS_OFF)

    assert config.current().url_based_enabled is False
    assert seen == [config.current()]


def test_removing_the_lines_turns_url_tokens_back_on(config: LicensingResourceConfig) -> None:
    config.receive(URL_TOKENS_OFF)

    config.receive(resource({}))

    assert config.current().url_based_enabled is True


def test_an_invalid_document_keeps_the_previous_configuration_and_says_why(
    config: LicensingResourceConfig, caplog: pytest.LogCaptureFixture
) -> None:
    config.receive(URL_TOKENS_OFF)

    with caplog.at_level(logging.ERROR):
        config.receive(INVALID)
        config.receive(INVALID)  # the same problem again: logged once

    assert config.current().url_based_enabled is False
    problem = config.problem()
    assert problem is not None
    assert "spec.features.auth.urlBasedEnabled" in problem
    assert "'maybe'" in problem
    assert "the configuration read at 2026-03-04T10:00:00+00:00 stays in force" in problem
    assert config.warnings()[0] == problem
    assert len([r for r in caplog.records if "Configuration not applied" in r.message]) == 1
    assert not config.started_invalid


def test_a_fixed_document_clears_the_problem(config: LicensingResourceConfig) -> None:
    config.receive(INVALID)
    assert config.started_invalid

    config.receive(URL_TOKENS_OFF)

    assert config.problem() is None
    assert config.current().url_based_enabled is False
    assert not config.started_invalid


def test_a_deleted_resource_brings_the_defaults_back(config: LicensingResourceConfig) -> None:
    config.receive(resource({"features": {"hyperThreading": {"threadsPerCore": 2}}}))

    config.receive(None)

    assert config.current().metering.threads_per_core == 1


def test_unknown_fields_are_shown_as_a_warning(config: LicensingResourceConfig) -> None:
    config.receive(resource({"colour": "blue"}))

    assert config.warnings() == ["IBMLicensing 'instance': ignored 1 unknown field: spec.colour"]


def test_fields_of_ibms_crd_are_logged_once_at_debug_level_and_not_warned_about(
    config: LicensingResourceConfig, caplog: pytest.LogCaptureFixture
) -> None:
    ibm_fields = {"datasource": "datacollector", "version": "4.2.10"}

    with caplog.at_level(logging.DEBUG, logger="license_service.config_sources"):
        config.receive(resource(ibm_fields))
        config.receive(resource({**ibm_fields, "logLevel": "DEBUG"}))

    assert config.warnings() == []
    noted = [record for record in caplog.records if "not applicable" in record.getMessage()]
    assert [record.levelno for record in noted] == [logging.DEBUG]
    assert "spec.datasource, spec.version" in noted[0].getMessage()
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
