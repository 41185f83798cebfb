"""``spec.sender`` (SPEC 11): IBM's field names, the defaults, ``initialDays`` up to 731, and a
clear message for each bad value (the previous configuration then stays in force)."""

from __future__ import annotations

from typing import Any

import pytest

from license_service.configuration.ibmlicensing import parse_ibmlicensing
from license_service.configuration.sender_settings import SenderSettings, checked_token
from license_service.errors import ConfigurationError
from tests.configuration.test_ibmlicensing import document, problems_of


def sender(**fields: Any) -> dict[str, Any]:
    return document({"sender": fields})


def test_without_a_reporter_url_the_sender_is_off() -> None:
    assert parse_ibmlicensing(document({})).sender_settings is None
    assert parse_ibmlicensing(sender(clusterName="prod")).sender_settings is None


def test_a_reporter_url_alone_takes_every_default() -> None:
    settings = parse_ibmlicensing(
        sender(reporterURL="https://reporter.example.com/")
    ).sender_settings
    assert settings == SenderSettings(
        reporter_url="https://reporter.example.com",
        reporter_secret_token="ibm-license-service-reporter-token",
        cluster_id=None,
        cluster_name=None,
        validate_reporter_certs=False,
        reporter_certs_secret_name=None,
        initial_days=30,
    )


def test_every_field_is_read_by_ibms_name() -> None:
    settings = parse_ibmlicensing(
        sender(
            reporterURL="https://reporter.example.com:8443/base",
            reporterSecretToken="my-reporter-token",
            clusterID="prod-eu-1",
            clusterName="Production EU",
            validateReporterCerts=True,
            reporterCertsSecretName="reporter-ca",
            initialDays=731,
        )
    ).sender_settings
    assert settings == SenderSettings(
        reporter_url="https://reporter.example.com:8443/base",
        reporter_secret_token="my-reporter-token",
        cluster_id="prod-eu-1",
        cluster_name="Production EU",
        validate_reporter_certs=True,
        reporter_certs_secret_name="reporter-ca",
        initial_days=731,
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reporterURL": "reporter.example.com"}, "is not an http:// or https:// URL"),
        ({"reporterURL": 42}, "spec.sender.reporterURL: 42 is not allowed"),
        ({"reporterURL": "https://user:secret@r.example.com"}, "holds credentials"),
        ({"reporterURL": "https://r.example.com?token=x"}, "query or fragment"),
        ({"reporterURL": "https://r.example.com", "initialDays": 732}, "1 to 731"),
        ({"reporterURL": "https://r.example.com", "initialDays": 0}, "spec.sender.initialDays"),
        ({"reporterURL": "https://r.example.com", "validateReporterCerts": "yes"}, "not a boolean"),
        (
            {"reporterURL": "https://r.example.com", "validateReporterCerts": True},
            "reporterCertsSecretName is not set",
        ),
        (
            {"reporterURL": "https://r.example.com", "reporterSecretToken": "Bad_Name"},
            "spec.sender.reporterSecretToken",
        ),
    ],
)
def test_a_bad_value_is_refused_with_a_message_naming_the_field(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError):
        parse_ibmlicensing(sender(**fields))
    assert message in problems_of(sender(**fields))


def test_a_url_with_credentials_is_refused_without_showing_them() -> None:
    assert "secret" not in problems_of(sender(reporterURL="https://user:secret@r.example.com"))


@pytest.mark.parametrize("raw", [b"", b"  \n", b"two words", b"caf\xc3\xa9", b"line\nbreak"])
def test_an_unusable_token_is_refused_without_showing_it(raw: bytes) -> None:
    with pytest.raises(ConfigurationError) as refused:
        checked_token(raw, place="/run/reporter/token")
    assert "/run/reporter/token" in str(refused.value)
    if raw.strip():
        assert raw.decode(errors="replace") not in str(refused.value)


def test_a_token_file_keeps_its_token_without_the_line_end() -> None:
    assert checked_token(b"abc-123_XYZ\n", place="f") == "abc-123_XYZ"


def test_ibms_frequency_is_a_note_and_an_unknown_sender_field_a_warning() -> None:
    config = parse_ibmlicensing(
        sender(reporterURL="https://r.example.com", frequency="hourly", pushEvery=5)
    )
    assert "spec.sender.frequency" in " ".join(config.notes)
    assert "spec.sender.pushEvery" in " ".join(config.warnings)
    assert "spec.sender.reporterURL" not in " ".join(config.notes + config.warnings)
