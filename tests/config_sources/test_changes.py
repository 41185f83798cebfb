"""Configuration changes are told in the document's own field paths."""

from __future__ import annotations

from license_service.config_sources.changes import describe_changes
from license_service.configuration.ibmlicensing import LicensingConfig
from license_service.metering.settings import MeteringSettings


def test_equal_configurations_have_no_change() -> None:
    assert describe_changes(LicensingConfig(), LicensingConfig()) == []


def test_each_changed_field_is_one_line_with_its_path() -> None:
    after = LicensingConfig(
        url_based_enabled=False,
        metering=MeteringSettings(threads_per_core=4),
        instance_namespace="ibm-licensing",
    )

    assert describe_changes(LicensingConfig(), after) == [
        "spec.features.auth.urlBasedEnabled: true -> false",
        "spec.features.hyperThreading.threadsPerCore: 1 -> 4",
        "spec.instanceNamespace: unset -> ibm-licensing (applies at the next start)",
    ]


def test_a_tls_change_says_it_applies_at_the_next_start() -> None:
    assert describe_changes(LicensingConfig(), LicensingConfig(https_enable=True)) == [
        "spec.httpsEnable: false -> true (applies at the next start)"
    ]


def test_a_changed_section_is_told_field_by_field_not_as_a_python_mapping() -> None:
    before = LicensingConfig(sender={"clusterName": "prod"})
    after = LicensingConfig(
        sender={"clusterName": "production", "reporterURL": "https://reporter.example"}
    )

    assert describe_changes(before, after) == [
        "spec.sender.clusterName: prod -> production",
        "spec.sender.reporterURL: unset -> https://reporter.example",
    ]


def test_a_section_removed_is_told_field_by_field() -> None:
    before = LicensingConfig(sender={"clusterName": "prod", "validateReporterCerts": True})

    assert describe_changes(before, LicensingConfig()) == [
        "spec.sender.clusterName: prod -> unset",
        "spec.sender.validateReporterCerts: true -> unset",
    ]
