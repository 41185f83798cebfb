"""The TLS files the API is served with: given ones win, a Secret's are copied, else made once."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from license_service.runtime.paths import DataDir
from license_service.tls.certificates import (
    RENEW_BEFORE,
    generate_self_signed,
    renewal_due,
    service_dns_names,
)
from license_service.tls.file_store import TlsFiles, check_tls_files, served_tls_files

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
        None, https_enable=False, files=directory.tls_files, secret_pems=None, clock=clock
    )

    assert files is None
    assert not directory.tls_cert_file.exists()


def test_https_makes_a_usable_private_certificate_once_and_reuses_it(tmp_path: Path) -> None:
    directory = data_dir(tmp_path)

    first = served_tls_files(
        None, https_enable=True, files=directory.tls_files, secret_pems=None, clock=clock
    )
    assert first == TlsFiles(directory.tls_cert_file, directory.tls_key_file)
    certificate = first.cert.read_bytes()
    again = served_tls_files(
        None, https_enable=True, files=directory.tls_files, secret_pems=None, clock=clock
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
        given, https_enable=True, files=directory.tls_files, secret_pems=pems, clock=clock
    )

    assert files == given
    assert not directory.tls_cert_file.exists()


def test_the_secrets_certificate_replaces_the_files_at_every_start(tmp_path: Path) -> None:
    directory = data_dir(tmp_path)
    served_tls_files(
        None, https_enable=True, files=directory.tls_files, secret_pems=None, clock=clock
    )
    pems = generate_self_signed(dns_names=service_dns_names("licensing"), now=NOW)

    files = served_tls_files(
        None, https_enable=True, files=directory.tls_files, secret_pems=pems, clock=clock
    )

    assert files is not None
    assert (files.cert.read_bytes(), files.key.read_bytes()) == (pems.certificate, pems.private_key)
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600


def test_a_made_certificate_is_renewed_by_a_start_near_its_expiry(tmp_path: Path) -> None:
    directory = data_dir(tmp_path)
    first = served_tls_files(
        None, https_enable=True, files=directory.tls_files, secret_pems=None, clock=clock
    )
    assert first is not None
    made = first.cert.read_bytes()
    expiry = x509.load_pem_x509_certificate(made).not_valid_after_utc

    still_valid = served_tls_files(
        None,
        https_enable=True,
        files=directory.tls_files,
        secret_pems=None,
        clock=lambda: expiry - RENEW_BEFORE - timedelta(days=1),
    )
    assert still_valid is not None
    assert still_valid.cert.read_bytes() == made

    later = expiry - timedelta(days=10)
    renewed = served_tls_files(
        None, https_enable=True, files=directory.tls_files, secret_pems=None, clock=lambda: later
    )
    assert renewed is not None
    certificate = x509.load_pem_x509_certificate(renewed.cert.read_bytes())
    assert certificate.not_valid_after_utc > later + RENEW_BEFORE
    check_tls_files(renewed)


def test_a_certificate_the_service_did_not_make_is_never_replaced(tmp_path: Path) -> None:
    directory = data_dir(tmp_path)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "operator's own")])
    foreign = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - timedelta(days=400))
        .not_valid_after(NOW + timedelta(days=2))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )
    directory.tls_cert_file.write_bytes(foreign)
    directory.tls_key_file.write_bytes(b"key")

    assert not renewal_due(foreign, NOW)
    assert not renewal_due(b"not a certificate", NOW)
    served_tls_files(
        None, https_enable=True, files=directory.tls_files, secret_pems=None, clock=clock
    )

    assert directory.tls_cert_file.read_bytes() == foreign
