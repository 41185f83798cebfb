"""The TLS files the API is served with: given ones win, a Secret's are copied, else made once."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

from license_service.cluster.kubernetes.self_signed_certificates import (
    generate_self_signed,
    service_dns_names,
)
from license_service.runtime.options import TlsFiles
from license_service.runtime.paths import DataDir
from license_service.runtime.servers import check_tls_files
from license_service.runtime.tls_files import served_tls_files

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


def data_dir(tmp_path: Path) -> DataDir:
    directory = DataDir(tmp_path / "data")
    directory.create()
    return directory


def test_without_https_the_api_is_served_over_plain_http(tmp_path: Path) -> None:
    directory = data_dir(tmp_path)

    files = served_tls_files(
        None, https_enable=False, data_dir=directory, secret_pems=None, clock=clock
    )

    assert files is None
    assert not directory.tls_cert_file.exists()


def test_https_makes_a_usable_private_certificate_once_and_reuses_it(tmp_path: Path) -> None:
    directory = data_dir(tmp_path)

    first = served_tls_files(
        None, https_enable=True, data_dir=directory, secret_pems=None, clock=clock
    )
    assert first == TlsFiles(directory.tls_cert_file, directory.tls_key_file)
    certificate = first.cert.read_bytes()
    again = served_tls_files(
        None, https_enable=True, data_dir=directory, secret_pems=None, clock=clock
    )

    assert again == first
    assert first.cert.read_bytes() == certificate
    assert stat.S_IMODE(first.key.stat().st_mode) == 0o600
    check_tls_files(first)


def test_given_files_win_over_the_configuration_and_the_secret(tmp_path: Path) -> None:
    directory = data_dir(tmp_path)
    given = TlsFiles(tmp_path / "given.crt", tmp_path / "given.key")
    pems = generate_self_signed(dns_names=["localhost"], now=NOW)

    files = served_tls_files(
        given, https_enable=True, data_dir=directory, secret_pems=pems, clock=clock
    )

    assert files == given
    assert not directory.tls_cert_file.exists()


def test_the_secrets_certificate_replaces_the_files_at_every_start(tmp_path: Path) -> None:
    directory = data_dir(tmp_path)
    served_tls_files(None, https_enable=True, data_dir=directory, secret_pems=None, clock=clock)
    pems = generate_self_signed(dns_names=service_dns_names("licensing"), now=NOW)

    files = served_tls_files(
        None, https_enable=True, data_dir=directory, secret_pems=pems, clock=clock
    )

    assert files is not None
    assert (files.cert.read_bytes(), files.key.read_bytes()) == (pems.certificate, pems.private_key)
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
