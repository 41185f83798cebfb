"""The real `license-service serve` over a dump explains its numbers (SPEC 9), as `measure` does."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime

import httpx

from license_service.web.reports.group_reports import CHARGEBACK_OFF
from tests.e2e.processes import DUMP, ServiceProcess

TODAY = datetime.now(UTC).date().isoformat()
MQ = "c661609261d5471fb4ff8970a36bccea"
ACE = "2ec59ac2d0a54a0b8c5e52b4e9e7ab1f"
VPC = "VIRTUAL_PROCESSOR_CORE"


def explained(service: ServiceProcess, **params: str) -> httpx.Response:
    return httpx.get(
        f"{service.url}/usage_explained", params={"token": service.token, **params}, timeout=10
    )


def measure_explain(product_id: str) -> dict[str, object]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "license_service",
            "measure",
            str(DUMP),
            "--explain",
            product_id,
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    (explanation,) = json.loads(result.stdout)["explanations"]
    return explanation  # type: ignore[no-any-return]


def test_the_served_breakdown_is_the_one_measure_prints_and_adds_up(
    served: ServiceProcess,
) -> None:
    response = explained(served, productId=MQ, metricName=VPC)

    assert response.status_code == 200
    body = response.json()
    assert body["date"] == TODAY
    assert body["totalMillicores"] == sum(c["cappedMillicores"] for c in body["contributions"])
    assert body["metricQuantity"] == -(-body["totalMillicores"] // 1000) == 4
    products = httpx.get(
        f"{served.url}/products", params={"token": served.token}, timeout=10
    ).json()
    assert [p["metricQuantity"] for p in products if p["id"] == MQ] == [4]
    printed = measure_explain(MQ)
    assert body["contributions"] == printed["contributions"]


def test_a_bundled_product_and_csv_over_http(served: ServiceProcess) -> None:
    response = explained(served, productId=ACE, metricName=VPC, format="csv", date=TODAY)

    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {(row["workloadKind"], row["workloadName"]) for row in rows} == {
        ("Deployment", "ace-dashboard"),
        ("Deployment", "ace-server"),
    }


def test_group_name_is_refused_while_chargeback_is_off(served: ServiceProcess) -> None:
    response = explained(served, productId=MQ, metricName=VPC, groupName="team-a")

    assert response.status_code == 400
    assert response.json()["message"] == CHARGEBACK_OFF  # as the group reports say it
