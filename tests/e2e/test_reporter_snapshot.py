"""The Reporter's signed ``/snapshot`` end to end (SPEC 11): a real ``license-service
reporter`` on PostgreSQL, two clusters pushing, the zip downloaded and checked with the
real ``sha256sum -c`` and ``openssl dgst -verify``, and by ``license-service snapshot
verify``; a changed file fails all three."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from license_service.signing.keys import SigningKey
from tests.e2e.processes import ServiceProcess, run_cli
from tests.e2e.reporter_process import start_reporter
from tests.e2e.test_reporter import FIRST, TODAY, get, push
from tests.fleet.pushes import day_of, push_body
from tests.store.conftest import fresh_postgres_schema, postgres_url_or_skip

pytestmark = pytest.mark.postgres

OPENSSL_VERIFY = (
    "openssl",
    "dgst",
    "-sha256",
    "-verify",
    "pub_key.pem",
    "-signature",
    "signature.rsa",
    "checksum.txt",
)


@pytest.fixture
def reporter(tmp_path: Path) -> Iterator[ServiceProcess]:
    with fresh_postgres_schema(postgres_url_or_skip()) as url:
        started = start_reporter(tmp_path, url)
        try:
            yield started
        finally:
            started.stop()


def _run(command: tuple[str, ...] | list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, check=False, cwd=cwd, capture_output=True, text=True)


def test_the_downloaded_fleet_snapshot_verifies_with_standard_tools(
    reporter: ServiceProcess, tmp_path: Path
) -> None:
    if shutil.which("openssl") is None or shutil.which("sha256sum") is None:
        pytest.skip("openssl and sha256sum are needed to verify a snapshot with standard tools")
    second = FIRST + timedelta(days=1)
    a = [day_of(FIRST, quantity=5), day_of(second, quantity=2)]
    b = [day_of(FIRST, quantity=1), day_of(second, quantity=6)]
    assert push(reporter, push_body("cluster-a", a)).status_code == 200
    assert push(reporter, push_body("cluster-b", b)).status_code == 200
    period = {"dateFrom": FIRST.isoformat(), "dateTo": TODAY.isoformat()}

    answer = get(reporter, "/snapshot", **period)

    assert answer.status_code == 200, answer.text
    dates = f"{FIRST.isoformat()}_{TODAY.isoformat()}"
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="license-service-reporter-snapshot_{dates}.zip"'
    )
    saved = tmp_path / "fleet.zip"
    saved.write_bytes(answer.content)
    out = tmp_path / "extracted"
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        archive.extractall(out)
    checksums = _run(["sha256sum", "--strict", "-c", "checksum.txt"], out)
    assert checksums.returncode == 0, checksums.stdout + checksums.stderr
    assert f"clusters/cluster-b/products_daily_{dates}_cluster-b.csv: OK" in checksums.stdout
    signature = _run(OPENSSL_VERIFY, out)
    assert signature.returncode == 0, signature.stdout + signature.stderr
    assert signature.stdout.strip() == "Verified OK"
    # Signed by the Reporter's own key, the one in its data directory.
    key = SigningKey.from_pem((reporter.data_dir / "signing-key.pem").read_bytes())
    assert (out / "pub_key.pem").read_bytes() == key.public_pem()
    assert key.fingerprint in (out / "data_condition.txt").read_text()
    # The fleet's period file is /products (plus clusterId); day 2 sums to 2 + 6 = 8.
    fleet = (out / f"products_{dates}_all.csv").read_text()
    assert f"IBM MQ,mq-1,VIRTUAL_PROCESSOR_CORE,{second.isoformat()},8,all" in fleet
    api = get(reporter, "/products", format="csv", **period).text
    assert [line.rsplit(",", 1)[0] for line in fleet.splitlines()[1:]] == api.splitlines()[1:]
    verified = run_cli("snapshot", "verify", str(saved), "--public-key", str(out / "pub_key.pem"))
    assert verified.returncode == 0, verified.stdout + verified.stderr

    changed = out / f"clusters/cluster-a/products_{dates}_cluster-a.csv"
    changed.write_text(changed.read_text().replace(",5,cluster-a", ",1,cluster-a"))
    tampered = _run(["sha256sum", "--strict", "-c", "checksum.txt"], out)
    assert tampered.returncode != 0
    assert f"clusters/cluster-a/products_{dates}_cluster-a.csv: FAILED" in tampered.stdout
    checksum = out / "checksum.txt"
    checksum.write_text(
        checksum.read_text().replace("  clusters/cluster-a/", "  clusters/cluster-b/", 1)
    )
    assert _run(OPENSSL_VERIFY, out).returncode != 0
    rezipped = tmp_path / "tampered.zip"
    with zipfile.ZipFile(rezipped, "w") as archive:
        for path in sorted(out.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(out).as_posix())
    refused = run_cli("snapshot", "verify", str(rezipped))
    assert refused.returncode != 0
    assert "FAILED" in refused.stdout
