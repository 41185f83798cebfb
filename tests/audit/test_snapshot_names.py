"""Snapshot names follow SPEC 5 exactly, and read back from the names inside a zip."""

from __future__ import annotations

import pytest

from license_service.audit.snapshot_names import (
    snapshot_file_name,
    snapshot_files,
    suffix_of_csv_name,
    suffix_of_snapshot_name,
)
from license_service.errors import AuditError
from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from tests.store.sample_builders import day

PERIOD = DatePeriod(day("2026-07-01"), day("2026-09-30"))
UID = ClusterId("3f1b2c4d-aaaa-bbbb-cccc-0123456789ab")


def test_the_zip_is_named_after_cluster_then_period() -> None:
    assert snapshot_file_name(UID, PERIOD) == (
        "license-service-snapshot_3f1b2c4d-aaaa-bbbb-cccc-0123456789ab_2026-07-01_2026-09-30.zip"
    )


def test_the_files_inside_end_in_period_then_cluster() -> None:
    files = snapshot_files(ClusterId("c1"), PERIOD)
    assert files.every_file == (
        "products_2026-07-01_2026-09-30_c1.csv",
        "products_daily_2026-07-01_2026-09-30_c1.csv",
        "bundled_products_2026-07-01_2026-09-30_c1.csv",
        "bundled_products_daily_2026-07-01_2026-09-30_c1.csv",
        "services_2026-07-01_2026-09-30_c1.csv",
        "compliance_2026-07-01_2026-09-30_c1.csv",
        "uploads_2026-07-01_2026-09-30_c1.csv",
        "data_condition.txt",
        "checksum.txt",
        "signature.rsa",
        "pub_key.pem",
    )
    assert files.checksummed == files.every_file[:8]


@pytest.mark.parametrize("cluster", ["c1", "my_cluster_2", "prod.eu-1"])
def test_every_csv_name_gives_back_its_suffix(cluster: str) -> None:
    files = snapshot_files(ClusterId(cluster), PERIOD)
    for name in files.checksummed[:7]:
        assert suffix_of_csv_name(name) == files.suffix
    assert suffix_of_snapshot_name(snapshot_file_name(ClusterId(cluster), PERIOD)) == files.suffix


@pytest.mark.parametrize(
    "name", ["data_condition.txt", "products.csv", "products_2026-07-01_c1.csv", "x_products.csv"]
)
def test_other_names_give_no_suffix(name: str) -> None:
    assert suffix_of_csv_name(name) is None


@pytest.mark.parametrize(
    "cluster", ["", "../up", "a/b", "two words", "line\nbreak", "-starts-with-dash", "é"]
)
def test_a_cluster_id_unfit_for_file_names_is_refused(cluster: str) -> None:
    with pytest.raises(AuditError, match="cannot be part of snapshot file names"):
        snapshot_file_name(ClusterId(cluster), PERIOD)
    with pytest.raises(AuditError, match="letters, digits"):
        snapshot_files(ClusterId(cluster), PERIOD)
