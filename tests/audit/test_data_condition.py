"""``data_condition.txt`` states the conditions of the numbers: sampling, gaps, settings, keys."""

from __future__ import annotations

import dataclasses

from license_service.audit.data_condition import DataCondition, data_condition_text
from license_service.metering.settings import MeteringSettings
from license_service.store.sampling_gaps import Gap, SamplingSummary
from license_service.store.settings_history import SettingsChange
from tests.audit.snapshot_data import CONTEXT, PERIOD
from tests.store.sample_builders import at, day

CONDITION = DataCondition(
    context=CONTEXT,
    period=PERIOD,
    window_start=at("2026-11-01"),
    window_end=at("2026-11-04"),
    metrics=("VIRTUAL_PROCESSOR_CORE",),
    sampling=SamplingSummary(
        samples_taken=862, samples_expected=864, interval_seconds=300, samples_missed=1
    ),
    gaps=(),
    settings=(SettingsChange(at("2026-10-01"), MeteringSettings()),),
    files={"products_x.csv": 1, "products_daily_x.csv": 30},
    signing_key_fingerprint="SHA256:" + "ab" * 32,
)


def text_of(**changes: object) -> str:
    return data_condition_text(dataclasses.replace(CONDITION, **changes))  # type: ignore[arg-type]


def test_it_names_service_cluster_period_generation_time_and_metrics() -> None:
    text = data_condition_text(CONDITION)
    assert text.startswith("License Service audit snapshot: data condition\n")
    assert "Service version:       1.2.3\n" in text
    assert "Cluster id:            cluster-a\n" in text
    assert "Cluster name:          Production, Frankfurt\n" in text
    assert "Period:                2026-11-01 to 2026-11-03 (3 UTC days, both included)\n" in text
    assert "Generated at:          2026-11-04T08:00:00Z\n" in text
    assert "Metrics present:       VIRTUAL_PROCESSOR_CORE\n" in text


def test_samples_taken_are_shown_against_those_expected_rounded_down() -> None:
    text = data_condition_text(CONDITION)
    assert "Interval:              300 s\n" in text
    # 862 / 864 = 99.77 %: shown as 99.7 %, never rounded up to look complete.
    assert "Samples taken:         862 of 864 expected (99.7 %)\n" in text
    assert (
        "Samples missed:        1 (sampling instants without a sample; the gaps below say when "
        "and why)\n"
    ) in text


def test_no_gap_says_none_and_every_gap_is_listed_with_its_reason() -> None:
    assert "  Gaps:                  none\n" in data_condition_text(CONDITION)
    text = text_of(
        gaps=(
            Gap(at("2026-11-01", "03:00"), at("2026-11-01", "03:30:20"), "view stale"),
            Gap(at("2026-11-02", "05:00"), at("2026-11-02", "05:00"), "sampler error"),
            Gap(at("2026-11-03", "00:00"), at("2026-11-04"), None),
        )
    )
    assert "  Gaps:                  3\n" in text
    assert "    2026-11-01T03:00:00Z to 2026-11-01T03:30:20Z (30 min 20 s): view stale\n" in text
    assert "    at 2026-11-02T05:00:00Z: sampler error\n" in text
    assert "    2026-11-03T00:00:00Z to 2026-11-04T00:00:00Z (1 d): no reason recorded" in text


def test_each_setting_says_since_when_it_has_been_in_force() -> None:
    text = text_of(
        settings=(
            SettingsChange(at("2026-09-01"), MeteringSettings()),
            SettingsChange(at("2026-10-01"), MeteringSettings(threads_per_core=2)),
            SettingsChange(
                at("2026-11-02", "12:00"),
                MeteringSettings(threads_per_core=2, capping_source="allocatable"),
            ),
        )
    )
    assert "Hyper-threading:       threadsPerCore 2, since 2026-10-01T00:00:00Z\n" in text
    assert (
        "Node CPU capping:      on, at each node's allocatable CPU (status.allocatable.cpu), "
        "since 2026-11-02T12:00:00Z\n"
    ) in text
    assert "Default PVU per core:  70, since 2026-09-01T00:00:00Z\n" in text
    assert (
        "At the period start:   threadsPerCore 2, node CPU capping on (capacity), "
        "default PVU per core 70, excluded namespaces none\n"
    ) in text
    assert "Changes in the period: 1\n" in text
    assert "    2026-11-02T12:00:00Z: threadsPerCore 2, node CPU capping on (allocatable)" in text


def test_excluded_namespaces_are_printed_with_the_time_of_every_change() -> None:
    text = text_of(
        settings=(
            SettingsChange(at("2026-09-01"), MeteringSettings()),
            SettingsChange(
                at("2026-11-02", "12:05"), MeteringSettings(excluded_namespaces=("sandbox-.*",))
            ),
        )
    )
    assert "Excluded namespaces:   sandbox-.*, since 2026-11-02T12:05:00Z\n" in text
    assert (
        "    2026-11-02T12:05:00Z: threadsPerCore 1, node CPU capping on (capacity), "
        "default PVU per core 70, excluded namespaces sandbox-.*\n"
    ) in text


def test_capping_switched_off_is_said_plainly() -> None:
    text = text_of(
        settings=(SettingsChange(at("2026-10-01"), MeteringSettings(node_cpu_capping=False)),)
    )
    assert "Node CPU capping:      off (usage on a node is not capped), since 2026-10-01" in text


def test_settings_never_recorded_are_said_to_be_unknown() -> None:
    assert "  none recorded: no sample was taken up to the end of the period\n" in text_of(
        settings=()
    )


def test_retention_is_stated_and_a_period_older_than_it_is_flagged() -> None:
    text = data_condition_text(CONDITION)
    assert "Raw samples:           62 days\n" in text
    assert "Daily peaks:           731 days (oldest day kept: 2024-11-04)\n" in text
    assert "removed by retention" not in text
    old = dataclasses.replace(CONDITION.period, first=day("2024-10-01"))
    assert "The period starts before 2024-11-04: earlier days were removed by retention" in text_of(
        period=old
    )


def test_files_rows_and_signing_key_fingerprint_are_listed() -> None:
    text = data_condition_text(CONDITION)
    assert "  products_x.csv        1 row\n" in text
    assert "  products_daily_x.csv  30 rows\n" in text
    assert "Fingerprint:           SHA256:" + "ab" * 32 + "\n" in text
    assert "openssl dgst -sha256 -verify pub_key.pem -signature signature.rsa checksum.txt" in text


def test_the_text_ends_with_one_newline_and_has_no_carriage_return() -> None:
    text = data_condition_text(CONDITION)
    assert text.endswith(".\n")
    assert not text.endswith("\n\n")
    assert "\r" not in text
