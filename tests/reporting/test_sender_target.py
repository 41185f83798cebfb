"""Where the sender pushes, read before every round: ``spec.sender`` of the configuration in
force, ``--reporter-url`` in its place, the token and CA files, the service's own cluster id
and name by default; a token that cannot be read is shown with the Reporter's URL."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from license_service.configuration.ibmlicensing import LicensingConfig
from license_service.configuration.sender_settings import SenderSettings
from license_service.fleet.push_format import ClusterIdentity
from license_service.reporting.reporter_credentials import ReporterFiles
from license_service.reporting.sender import (
    CONFIGURATION_CHECK_SECONDS,
    Sender,
    UnusableTarget,
)
from license_service.reporting.sender_target import target_reader
from license_service.signing.keys import SigningKey
from license_service.store.database import Database
from license_service.web.probes.sender_section import sender_section, sender_warnings
from tests.store.sample_builders import CLUSTER, at

OWN = ClusterIdentity(
    cluster_id="kube-system-uid", cluster_name="my cluster", service_version="9.9"
)


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "reporter-token"
    path.write_text("file-token\n")
    return path


def test_no_reporter_no_target(token_file: Path) -> None:
    read = target_reader(
        config=LicensingConfig,
        reporter_url=None,
        credentials=ReporterFiles(token_file, None),
        cluster=OWN,
    )
    assert read() is None


def test_the_flag_names_the_reporter_and_the_cluster_is_the_services_own(
    token_file: Path,
) -> None:
    target = target_reader(
        config=LicensingConfig,
        reporter_url="http://127.0.0.1:9/",
        credentials=ReporterFiles(token_file, None),
        cluster=OWN,
    )()
    assert target is not None
    assert target.reporter.url == "http://127.0.0.1:9"
    assert target.reporter.token == "file-token"
    assert target.reporter.ca_pem is None
    assert target.cluster == OWN
    assert target.initial_days == 30
    assert "file-token" not in repr(target)


def test_spec_sender_names_the_cluster_and_the_days_and_the_ca_file_verifies(
    token_file: Path, tmp_path: Path
) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_bytes(b"-----BEGIN CERTIFICATE-----\n")
    config = replace(
        LicensingConfig(),
        sender_settings=SenderSettings(
            reporter_url="https://reporter.example.com",
            cluster_id="prod-eu",
            cluster_name="Production EU",
            initial_days=90,
        ),
    )
    target = target_reader(
        config=lambda: config,
        reporter_url=None,
        credentials=ReporterFiles(token_file, ca),
        cluster=OWN,
    )()
    assert target is not None
    assert target.reporter.url == "https://reporter.example.com"
    assert target.cluster == ClusterIdentity("prod-eu", "Production EU", "9.9")
    assert target.initial_days == 90
    assert target.reporter.ca_pem == b"-----BEGIN CERTIFICATE-----\n"


def test_an_unreadable_token_is_shown_with_the_reporters_url(
    db: Database, signing_key: SigningKey, tmp_path: Path
) -> None:
    read = target_reader(
        config=LicensingConfig,
        reporter_url="https://reporter.example.com",
        credentials=ReporterFiles(tmp_path / "missing-token", None),
        cluster=OWN,
    )
    with pytest.raises(UnusableTarget):
        read()
    sender = Sender(
        db, cluster_id=CLUSTER, signing_key=signing_key, target=read, clock=lambda: at("2026-12-06")
    )

    sender.push_round()

    status = sender.status()
    section = sender_section(status)
    assert section is not None
    assert section["reporterURL"] == "https://reporter.example.com"
    assert "--reporter-token-file" in (section["lastError"] or "")
    assert sender_warnings(status)


def test_a_service_without_a_reporter_looks_again_within_a_minute(
    db: Database, signing_key: SigningKey
) -> None:
    sender = Sender(
        db,
        cluster_id=CLUSTER,
        signing_key=signing_key,
        target=lambda: None,
        clock=lambda: at("2026-12-06"),
    )
    assert sender.push_round() == CONFIGURATION_CHECK_SECONDS
    assert sender_section(sender.status()) is None
