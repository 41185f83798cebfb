"""The real `license-service serve` over a cluster dump: every endpoint of SPEC 3, over HTTP."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.e2e.processes import ServiceProcess

TODAY = datetime.now(UTC).date().isoformat()


def get(service: ServiceProcess, path: str, **params: str) -> httpx.Response:
    return httpx.get(f"{service.url}{path}", params={"token": service.token, **params}, timeout=10)


def test_public_endpoints_answer_without_a_token(served: ServiceProcess) -> None:
    for path in ("/", "/version", "/livez", "/readyz", "/openapi.json"):
        assert httpx.get(f"{served.url}{path}").status_code == 200, path

    assert httpx.get(f"{served.url}/version").json()["version"] == "0.1.0"
    assert "text/html" in httpx.get(f"{served.url}/").headers["content-type"]


def test_products_are_the_dump_s_usage_sorted_by_name(served: ServiceProcess) -> None:
    products = get(served, "/products").json()

    assert [(row["name"], row["metricName"], row["metricQuantity"]) for row in products] == [
        ("IBM Cloud Pak for Integration", "VIRTUAL_PROCESSOR_CORE", 4),
        ("IBM MQ Advanced", "VIRTUAL_PROCESSOR_CORE", 4),
        ("IBM WebSphere Application Server", "PROCESSOR_VALUE_UNIT", 150),
    ]
    assert {row["metricPeakDate"] for row in products} == {TODAY}


def test_both_date_spellings_and_a_metric_filter_are_accepted(served: ServiceProcess) -> None:
    by_date = get(served, "/products", dateFrom=TODAY, dateTo=TODAY).json()
    by_start = get(served, "/products", startDate=TODAY, endDate=TODAY).json()
    pvu = get(served, "/products", metricName="PROCESSOR_VALUE_UNIT").json()

    assert by_date == by_start
    assert len(by_date) == 3
    assert [row["name"] for row in pvu] == ["IBM WebSphere Application Server"]


def test_bundled_products_carry_their_conversion(served: ServiceProcess) -> None:
    bundled = get(served, "/bundled_products").json()

    assert {
        (row["productName"], row["metricConversion"], row["metricConvertedQuantity"])
        for row in bundled
    } == {("IBM API Connect", "1:1", 2), ("IBM App Connect Enterprise", "2:1", 1.5)}


def test_services_answer_a_json_array(served: ServiceProcess) -> None:
    response = get(served, "/services")

    assert response.status_code == 200
    assert isinstance(response.json(), list)
    assert all(row["metricPeakDate"] == TODAY for row in response.json())


def test_format_csv_gives_the_same_rows_as_csv(served: ServiceProcess) -> None:
    response = get(served, "/products", format="csv")

    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["name"] for row in rows] == [row["name"] for row in get(served, "/products").json()]


def test_health_reports_the_dump_collector_and_the_broken_pod(served: ServiceProcess) -> None:
    health = get(served, "/health").json()

    assert health["collector"]["source"] == "dump"
    assert health["collector"]["synced"] is True
    assert health["collector"]["lastSampleAt"] is not None
    assert health["incompleteAnnotations"]["count"] == 1
    assert health["incompleteAnnotations"]["pods"][0]["name"] == "inventory-api-7b5d9c6f4-zr2lp"


def test_the_status_page_names_the_cluster(served: ServiceProcess) -> None:
    response = get(served, "/status")

    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "c87e24a7-b69a-5dcd-ac8d-571b2faabde7" in response.text


def test_the_api_token_is_accepted_as_a_bearer_token(served: ServiceProcess) -> None:
    response = httpx.get(
        f"{served.url}/products", headers={"Authorization": f"Bearer {served.token}"}
    )

    assert response.status_code == 200
    assert len(response.json()) == 3


def test_metrics_are_served_on_the_metrics_port(served: ServiceProcess) -> None:
    get(served, "/products")
    response = httpx.get(served.metrics_url)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert re.search(
        r'^product_license_usage\{[^}]*productName="IBM MQ Advanced"[^}]*\} 4\.0$',
        response.text,
        re.MULTILINE,
    )
    assert "ibm_licensing_usage_daily_high_watermark" in response.text
    assert 'path="/products"' in response.text
    # The API port does not serve metrics, and the metrics port serves nothing else.
    assert httpx.get(f"{served.url}/metrics").status_code == 404
    assert httpx.get(f"http://127.0.0.1:{served.metrics_port}/products").status_code == 404


def test_the_openapi_document_describes_every_endpoint(served: ServiceProcess) -> None:
    paths = httpx.get(f"{served.url}/openapi.json").json()["paths"]

    assert {
        "/",
        "/products",
        "/bundled_products",
        "/services",
        "/health",
        "/version",
        "/status",
        "/snapshot",
        "/livez",
        "/readyz",
    } <= set(paths)


def test_a_downloaded_snapshot_verifies_with_sha256sum_and_openssl(
    served: ServiceProcess, tmp_path: Path
) -> None:
    if shutil.which("openssl") is None or shutil.which("sha256sum") is None:
        pytest.skip("openssl and sha256sum are needed to verify a snapshot with standard tools")
    response = get(served, "/snapshot", dateFrom=TODAY, dateTo=TODAY)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    name = f"license-service-snapshot_c87e24a7-b69a-5dcd-ac8d-571b2faabde7_{TODAY}_{TODAY}.zip"
    assert response.headers["content-disposition"] == f'attachment; filename="{name}"'
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        archive.extractall(tmp_path)
    assert (tmp_path / "data_condition.txt").is_file()

    checksums = subprocess.run(
        ["sha256sum", "-c", "checksum.txt"],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    signature = subprocess.run(
        [
            "openssl",
            "dgst",
            "-sha256",
            "-verify",
            "pub_key.pem",
            "-signature",
            "signature.rsa",
            "checksum.txt",
        ],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )

    assert checksums.returncode == 0, checksums.stdout + checksums.stderr
    assert signature.returncode == 0, signature.stdout + signature.stderr
    assert signature.stdout.strip() == "Verified OK"
    products = tmp_path / f"products_{TODAY}_{TODAY}_c87e24a7-b69a-5dcd-ac8d-571b2faabde7.csv"
    assert "IBM MQ Advanced" in products.read_text()
