"""The Reporter's ``GET /snapshot`` in process: the zip, its name, SPEC 3's period rules, the
gate, and files equal to what ``/products``, ``/bundled_products`` and ``/clusters`` answer."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from license_service.audit.verification import verify_snapshot
from license_service.signing.keys import SigningKey
from tests.audit.conftest import TEST_KEY_FILE
from tests.fleet.pushes import day_of, days_from, push_body
from tests.web.reporter.conftest import PERIOD, reporter_client

KEY = SigningKey.from_pem(TEST_KEY_FILE.read_bytes())
DATES = f"{PERIOD['dateFrom']}_{PERIOD['dateTo']}"


@pytest.fixture
def signing(tmp_path: Path) -> Iterator[TestClient]:
    yield from reporter_client(tmp_path, signing_key=KEY)


def _push(client: TestClient, body: bytes) -> None:
    answer = client.post("/v1/push", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text


def _files(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _without_cluster_column(data: bytes, cluster: str) -> bytes:
    """A snapshot CSV file as its API answers it: without the last column, ``clusterId``."""
    header, rows = data.split(b"\r\n", 1)
    assert header.endswith(b",clusterId")
    return (
        header.removesuffix(b",clusterId")
        + b"\r\n"
        + rows.replace(f",{cluster}\r\n".encode(), b"\r\n")
    )


def test_the_snapshot_holds_the_fleets_reports_and_the_cluster_list(
    signing: TestClient, tmp_path: Path
) -> None:
    _push(
        signing, push_body("c1", [day_of(date(2026, 12, 1), quantity=5), day_of(date(2026, 12, 2))])
    )
    _push(signing, push_body("c2", days_from(date(2026, 12, 2), 3, quantity=7)))
    answer = signing.get("/snapshot", params=PERIOD)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == "application/zip"
    assert answer.headers["Content-Disposition"] == (
        f'attachment; filename="license-service-reporter-snapshot_{DATES}.zip"'
    )
    files = _files(answer.content)
    for path, prefix in (("/products", "products"), ("/bundled_products", "bundled_products")):
        api = signing.get(path, params={**PERIOD, "format": "csv"}).content
        assert _without_cluster_column(files[f"{prefix}_{DATES}_all.csv"], "all") == api
        for cluster in ("c1", "c2"):
            own = signing.get(path, params={**PERIOD, "format": "csv", "clusterId": cluster})
            name = f"clusters/{cluster}/{prefix}_{DATES}_{cluster}.csv"
            assert _without_cluster_column(files[name], cluster) == own.content
    assert (
        files["clusters.csv"]
        == signing.get("/clusters", params={**PERIOD, "format": "csv"}).content
    )
    assert b"2026-12-03 2026-12-04 2026-12-05" in files["clusters.csv"]  # c1's missing days
    zip_path = tmp_path / "fleet.zip"
    zip_path.write_bytes(answer.content)
    report = verify_snapshot(zip_path, public_key_pem=KEY.public_pem())
    assert report.ok, report.findings


def test_the_period_rules_are_those_of_the_reports(signing: TestClient) -> None:
    alone = signing.get("/snapshot", params={"dateFrom": "2026-12-01"})
    assert alone.status_code == 400
    assert "dateTo" in alone.json()["message"]
    future = signing.get("/snapshot", params={"dateFrom": "2026-12-01", "dateTo": "2026-12-07"})
    assert future.status_code == 400
    default = signing.get("/snapshot")
    assert default.status_code == 200
    assert (
        'filename="license-service-reporter-snapshot_2026-11-07_2026-12-06.zip"'
        in (default.headers["Content-Disposition"])
    )
    assert signing.post("/snapshot").status_code == 405


def test_the_snapshot_needs_the_reporter_token(signing: TestClient) -> None:
    answer = signing.get("/snapshot", params=PERIOD, headers={"Authorization": ""})
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_without_a_signing_key_the_snapshot_is_503(client: TestClient) -> None:
    answer = client.get("/snapshot", params=PERIOD)
    assert answer.status_code == 503
    assert "signing key" in answer.json()["message"]


def test_the_status_page_names_the_snapshot_and_its_key(signing: TestClient) -> None:
    page = signing.get("/status").text
    assert "/snapshot?dateFrom=2026-11-07&amp;dateTo=2026-12-06" in page
    assert KEY.fingerprint in page
