"""``/snapshot`` (SPEC 3.8, 5): a signed zip of the period, streamed as a download."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from starlette.testclient import TestClient

from license_service.audit.verification import verify_snapshot
from license_service.signing.keys import SigningKey
from license_service.store.database import Database
from tests.store.sample_builders import at, product, store
from tests.web.conftest import authorized

NOVEMBER = {"dateFrom": "2026-11-01", "dateTo": "2026-11-28"}
SUFFIX = "2026-11-01_2026-11-28_cluster-a"


def test_snapshot_is_a_zip_download_named_after_cluster_and_period(
    client: TestClient, database: Database
) -> None:
    store(database, at("2026-11-02", "10:00"), product("p1", 4, name="Product One"))
    response = client.get("/snapshot", params=authorized(NOVEMBER))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"] == (
        'attachment; filename="license-service-snapshot_cluster-a_2026-11-01_2026-11-28.zip"'
    )
    assert int(response.headers["content-length"]) == len(response.content)
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = archive.namelist()
        products = archive.read(f"products_{SUFFIX}.csv").decode()
    assert f"products_daily_{SUFFIX}.csv" in names
    assert {"data_condition.txt", "checksum.txt", "signature.rsa", "pub_key.pem"} <= set(names)
    assert "Product One,p1,VIRTUAL_PROCESSOR_CORE,2026-11-02,4,cluster-a" in products


def test_snapshot_verifies_with_the_service_signing_key(
    client: TestClient, database: Database, signing_key: SigningKey, tmp_path: Path
) -> None:
    store(database, at("2026-11-02", "10:00"), product("p1", 4))
    zip_path = tmp_path / "snapshot.zip"
    zip_path.write_bytes(client.get("/snapshot", params=authorized(NOVEMBER)).content)
    report = verify_snapshot(zip_path, public_key_pem=signing_key.public_pem())
    assert report.ok, [str(finding) for finding in report.findings]
    assert report.key_fingerprint == signing_key.fingerprint


def test_snapshot_defaults_to_the_last_30_days(client: TestClient) -> None:
    response = client.get("/snapshot", params=authorized())
    assert response.status_code == 200
    assert "_2026-10-30_2026-11-28.zip" in response.headers["content-disposition"]


def test_snapshot_leaves_no_file_behind(client: TestClient, tmp_path: Path) -> None:
    before = sorted(tmp_path.iterdir())
    assert client.get("/snapshot", params=authorized(NOVEMBER)).status_code == 200
    assert sorted(tmp_path.iterdir()) == before
