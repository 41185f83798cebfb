"""Flags are checked before anything is built, every problem named with its flag and fix."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from license_service.errors import ConfigurationError
from license_service.runtime.options import ServeOptions
from license_service.tls.file_store import TlsFiles


def test_the_defaults_are_the_spec_ports_and_five_minutes() -> None:
    options = ServeOptions()
    options.check()

    assert (options.port, options.metrics_port, options.sample_interval) == (
        8080,
        8081,
        timedelta(seconds=300),
    )
    assert (options.tls, options.scheme) == (None, "http")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (ServeOptions(port=0), "--port 0 is not a port"),
        (ServeOptions(metrics_port=70000), "--metrics-port 70000 is not a port"),
        (ServeOptions(port=9000, metrics_port=9000), "--metrics-port 9000 is the API's --port"),
        (ServeOptions(tls_cert=Path("cert.pem")), "--tls-cert was given without --tls-key"),
        (ServeOptions(tls_key=Path("key.pem")), "--tls-key was given without --tls-cert"),
        (ServeOptions(config_file=Path("/nonexistent.yaml")), "--config /nonexistent.yaml: no"),
        (ServeOptions(sample_interval=timedelta(0)), "--sample-interval: sampling interval 0"),
        (ServeOptions(token_grace_period=timedelta(seconds=-5)), "--token-grace-period -5"),
        (
            ServeOptions(token_grace_period=timedelta(seconds=999_999_999_999)),
            "--token-grace-period 999999999999 is longer than the 604800 seconds",
        ),
        (ServeOptions(log_level="LOUD"), "--log-level 'LOUD' is not known"),
        (ServeOptions(host=" "), "--host is empty"),
    ],
    ids=[
        "port-0",
        "metrics-port-too-big",
        "same-ports",
        "cert-alone",
        "key-alone",
        "config-missing",
        "interval-0",
        "negative-grace",
        "huge-grace",
        "log-level",
        "empty-host",
    ],
)
def test_a_wrong_option_is_refused_with_its_flag(options: ServeOptions, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(")):
        options.check()


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(ConfigurationError) as raised:
        ServeOptions(port=0, log_level="LOUD").check()

    assert "--port 0" in str(raised.value)
    assert "--log-level 'LOUD'" in str(raised.value)


def test_metrics_port_zero_turns_the_metrics_server_off() -> None:
    ServeOptions(metrics_port=0).check()


def test_both_tls_files_make_the_api_https(tmp_path: Path) -> None:
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    cert.write_text("x")
    key.write_text("y")

    options = ServeOptions(tls_cert=cert, tls_key=key)
    options.check()

    assert (options.tls, options.scheme) == (TlsFiles(cert, key), "https")
