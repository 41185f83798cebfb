"""TLS files are checked at the start: a key that does not match its certificate is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from license_service.errors import ConfigurationError
from license_service.tls.file_store import TlsFiles, check_tls_files
from tests.e2e.certificates import self_signed_certificate


def test_a_certificate_and_its_key_are_accepted(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)

    check_tls_files(TlsFiles(cert, key))


def test_a_key_of_another_certificate_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    cert, _ = self_signed_certificate(tmp_path / "a")
    _, other_key = self_signed_certificate(tmp_path / "b")

    with pytest.raises(ConfigurationError, match=r"--tls-cert .*tls\.crt / --tls-key .* cannot"):
        check_tls_files(TlsFiles(cert, other_key))


def test_a_file_that_is_not_pem_is_refused(tmp_path: Path) -> None:
    cert, _ = self_signed_certificate(tmp_path)
    (tmp_path / "notes.txt").write_text("not a key")

    with pytest.raises(ConfigurationError, match="the PEM private key that belongs to it"):
        check_tls_files(TlsFiles(cert, tmp_path / "notes.txt"))
