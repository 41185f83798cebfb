"""Uploads against a real ``license-service serve`` process (SPEC 10): the CLI client, the
upload token file, and 100 concurrent clients adding to one day, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Start
from tests.e2e.processes import ServiceProcess, eventually, run_cli
from tests.store.conftest import fresh_postgres_schema, postgres_url_or_skip

CLIENTS = 100
PER_CLIENT = 3


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_arguments(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """The server's store: its data directory's SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield []
        return
    with fresh_postgres_schema(postgres_url_or_skip()) as url:
        yield ["--database-url", url]


def upload_token(service: ServiceProcess) -> str:
    return (service.data_dir / "upload-token").read_text().strip()


def quantity(service: ServiceProcess, product_id: str) -> int | None:
    today = datetime.now(UTC).date().isoformat()
    rows = httpx.get(
        f"{service.url}/products",
        params={"token": service.token, "dateFrom": today, "dateTo": today},
        timeout=30,
    ).json()
    found = [row["metricQuantity"] for row in rows if row["id"] == product_id]
    return found[0] if found else None


def test_one_hundred_concurrent_clients_adding_to_one_day_lose_nothing(
    start: Start, database_arguments: list[str]
) -> None:
    service = start(extra=database_arguments)
    token = upload_token(service)
    item = {
        "productId": "api",
        "productName": "API",
        "productMetric": "API_CALLS",
        "metricValue": 1,
        "aggregationPolicy": "ADD",
    }

    bundled = {
        **item,
        "productId": "gw",
        "productName": "Gateway",
        "cloudpakId": "cp",
        "cloudpakName": "Cloud Pak",
        "productCloudpakRatio": "2:1",
    }

    def client(number: int) -> list[int]:
        with httpx.Client(timeout=60) as http:
            return [
                http.post(
                    f"{service.url}/v2/metric_upload",
                    headers={"Authorization": f"Bearer {token}"},
                    json=[item, {**bundled, "submissionId": f"c{number}-{sent}"}],
                ).status_code
                for sent in range(PER_CLIENT)
            ]

    with ThreadPoolExecutor(CLIENTS) as pool:
        statuses = [status for result in pool.map(client, range(CLIENTS)) for status in result]
    assert statuses == [200] * CLIENTS * PER_CLIENT
    assert quantity(service, "api") == CLIENTS * PER_CLIENT
    # The bundled product's Cloud Pak (ratio 2:1): every upload counted, rounded up once.
    assert quantity(service, "cp") == CLIENTS * PER_CLIENT // 2


def test_the_cli_uploads_with_the_data_dirs_token_and_shows_every_refusal(
    start: Start, tmp_path: Path
) -> None:
    service = start()
    data_dir = ["--url", service.url, "--data-dir", str(service.data_dir)]
    sent = run_cli(
        "upload",
        *data_dir,
        "--product-id",
        "users",
        "--product-name",
        "Portal",
        "--metric",
        "AUTHORIZED_USER",
        "--value",
        "42",
        "--policy",
        "MAX",
    )
    assert (sent.returncode, sent.stdout) == (0, "accepted 1 item\n"), sent.stderr
    assert quantity(service, "users") == 42

    items = tmp_path / "items.json"
    items.write_text(
        json.dumps(
            [
                {
                    "productId": "users",
                    "productName": "Portal",
                    "productMetric": "AUTHORIZED_USER",
                    "metricValue": 50,
                    "aggregationPolicy": "ADD",
                }
            ]
        )
    )
    refused = run_cli("upload", *data_dir, str(items))
    assert refused.returncode == 2
    assert "the server refused the upload (409 Conflict): item 0, field aggregationPolicy" in (
        refused.stderr
    )
    # The API token is not an upload token: the server's 403 and its message are shown.
    api_token = tmp_path / "api-token"
    api_token.write_text(service.token)
    wrong = run_cli("upload", "--url", service.url, "--token-file", str(api_token), str(items))
    assert wrong.returncode == 2
    assert "(403 Forbidden): the API token reads usage and may not upload it" in wrong.stderr
    assert service.token not in wrong.stderr + wrong.stdout + service.log()
    # A mistake is named before anything is sent.
    bad = run_cli(
        "upload",
        *data_dir,
        "--product-id",
        "x",
        "--product-name",
        "X",
        "--metric",
        "M",
        "--value",
        "-1",
    )
    assert bad.returncode == 2
    assert "item 0, field metricValue: -1 is negative" in bad.stderr


def test_token_get_upload_prints_the_upload_token_the_server_accepts(start: Start) -> None:
    service = start()
    printed = run_cli("token", "get", "--upload", "--data-dir", str(service.data_dir))
    assert printed.returncode == 0
    token = printed.stdout.strip()
    assert token == upload_token(service)
    assert token != service.token
    assert len(token) == 24
    assert token not in service.log()


def test_the_demo_uploads_api_connects_monthly_api_calls_once(start: Start) -> None:
    def api_connect(service: ServiceProcess) -> list[dict[str, object]]:
        rows = httpx.get(
            f"{service.url}/bundled_products", params={"token": service.token}, timeout=30
        ).json()
        return [row for row in rows if row["metricName"] == "API_CALLS"]

    demo = start(command="demo", extra=["--history-days", "3"], sample_interval=300)
    (row,) = api_connect(demo)
    assert row["metricName"] == "API_CALLS"
    assert row["cloudpakName"] == "IBM Cloud Pak for Integration"
    assert row["metricConversion"] == "2000000:1"
    assert isinstance(row["metricMeasuredQuantity"], int)
    assert row["metricMeasuredQuantity"] > 0
    assert "license-service upload --url" in demo.stdout()
    assert demo.stop() == 0

    again = start(command="demo", extra=["--history-days", "3"], sample_interval=300)
    assert api_connect(again) == [row]


def test_the_upload_token_file_is_rotated_live_and_never_logged(start: Start) -> None:
    service = start()
    first = upload_token(service)
    item = {"productId": "u", "productName": "U", "productMetric": "USERS", "metricValue": 1}

    def status(token: str) -> int:
        return httpx.post(
            f"{service.url}/v2/metric_upload", params={"token": token}, json=item, timeout=30
        ).status_code

    assert status(first) == 200
    generated = run_cli("token", "generate", "--upload", "--data-dir", str(service.data_dir))
    assert generated.returncode == 0, generated.stderr
    second = generated.stdout.strip()
    assert second != first
    eventually(lambda: status(second) == 200 or None, within=5, what="the new upload token")
    assert status(first) == 401
    # A token sent where no token belongs still never reaches the log.
    httpx.get(f"{service.url}/products/{second}", timeout=30)
    log = service.log()
    assert first not in log
    assert second not in log
