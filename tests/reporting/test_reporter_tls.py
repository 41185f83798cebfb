"""TLS to the Reporter (SPEC 11): with ``validateReporterCerts`` the Reporter's certificate must
chain to the given CA, else the push fails (retried as a Reporter out of reach); without it
the connection is encrypted but the certificate is not checked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from license_service.reporting.reporter_client import PushAnswer, ReporterConnection, send_push
from tests.e2e.certificates import self_signed_certificate
from tests.reporting.fake_reporter import TOKEN, FakeReporter, running_reporter

EMPTY_PUSH = b"{}"


@pytest.fixture
def tls_reporter(tmp_path: Path) -> Iterator[tuple[FakeReporter, bytes]]:
    cert, key = self_signed_certificate(tmp_path)
    with running_reporter(tls=(cert, key)) as reporter:
        yield reporter, cert.read_bytes()


def push(reporter: FakeReporter, ca_pem: bytes | None) -> PushAnswer:
    return send_push(ReporterConnection(reporter.url, TOKEN, ca_pem, timeout=5), EMPTY_PUSH)


def test_a_reporter_whose_certificate_chains_to_the_ca_is_reached(
    tls_reporter: tuple[FakeReporter, bytes],
) -> None:
    reporter, ca = tls_reporter
    answer = push(reporter, ca)
    # Reached: the fake Reporter judged the (empty) body and refused it.
    assert answer.status == 400
    assert reporter.pushes[0].problem is not None


def test_a_reporter_with_a_certificate_of_another_ca_is_not_trusted(
    tls_reporter: tuple[FakeReporter, bytes], tmp_path: Path
) -> None:
    reporter, _ = tls_reporter
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other_ca = self_signed_certificate(other_dir)[0].read_bytes()
    answer = push(reporter, other_ca)
    assert answer.status == 0
    assert answer.retryable
    assert "CERTIFICATE_VERIFY_FAILED" in answer.message
    assert reporter.pushes == []


def test_without_validation_the_certificate_is_not_checked(
    tls_reporter: tuple[FakeReporter, bytes],
) -> None:
    reporter, _ = tls_reporter
    assert push(reporter, None).status == 400
