"""The Reporter's fleet-wide ``/compliance`` (SPEC 13): License Service's rows over the
fleet's period peaks, from a real entitlements file; and a bad file refused at start."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from license_service.cli.app import build_app
from license_service.entitlement_sources.file_source import EntitlementsFile
from license_service.fleet.push_format import PushDay
from license_service.metering.compliance import (
    COMPLIANCE_API_NAMES,
    compliance_json,
    compliance_rows,
)
from license_service.metering.periods import DatePeriod
from license_service.metering.row_specs import PeriodPeak
from license_service.metering.usage_rows import ProductUsage
from license_service.store.database import sqlite_url
from tests.fleet.pushes import day_of, push_body
from tests.web.reporter.conftest import NOW, PERIOD, reporter_client

VPC = "VIRTUAL_PROCESSOR_CORE"
ENTITLEMENTS = f"""
- {{name: MQ licence, productId: mq-1, metricName: {VPC}, quantity: 10}}
- {{name: CP4I licence, productId: cp4i, metricName: {VPC}, quantity: 3}}
- {{name: Db2 licence, productId: db2-1, metricName: {VPC}, quantity: 5}}
"""


def _day(day: str, mq: int, *, extra: int = 0) -> PushDay:
    """A day of ``day_of`` (MQ ``mq``, the Cloud Pak 2) and, when ``extra``, an unbought one."""
    pushed = day_of(date.fromisoformat(day), quantity=mq)
    if not extra:
        return pushed
    stray = ProductUsage("Stray", "stray-1", VPC, extra)
    return PushDay(
        date=pushed.date,
        complete=pushed.complete,
        products=(*pushed.products, stray),
        bundled_products=pushed.bundled_products,
        services=pushed.services,
        coverage=pushed.coverage,
    )


@pytest.fixture
def entitlements(tmp_path: Path) -> EntitlementsFile:
    path = tmp_path / "entitlements.yaml"
    path.write_text(ENTITLEMENTS)
    return EntitlementsFile.load(path, clock=lambda: NOW)


@pytest.fixture
def fleet(tmp_path: Path, entitlements: EntitlementsFile) -> Iterator[TestClient]:
    for test_client in reporter_client(tmp_path, entitlements=entitlements.current):
        for cluster_id, days in (
            ("c1", [_day("2026-12-02", 4), _day("2026-12-03", 6, extra=1)]),
            ("c2", [_day("2026-12-02", 5, extra=1), _day("2026-12-03", 3)]),
        ):
            pushed = test_client.post(
                "/v1/push",
                content=push_body(cluster_id, days),
                headers={"Content-Type": "application/json"},
            )
            assert pushed.status_code == 200, pushed.text
        yield test_client


def test_fleet_compliance_is_compliance_rows_of_the_fleet_peaks(
    fleet: TestClient, entitlements: EntitlementsFile
) -> None:
    # Daily sums: MQ 9 and 9 (highest 9, earliest day 12-02), the Cloud Pak 4 and 4,
    # Stray 1 and 1: a cluster's own peak (6) is not the fleet's.
    december_2 = date(2026, 12, 2)
    peaks = [
        PeriodPeak(ProductUsage("IBM MQ", "mq-1", VPC, 9), december_2),
        PeriodPeak(ProductUsage("Cloud Pak for Integration", "cp4i", VPC, 4), december_2),
        PeriodPeak(ProductUsage("Stray", "stray-1", VPC, 1), december_2),
    ]
    period = DatePeriod(date(2026, 12, 1), date(2026, 12, 6))
    expected = compliance_rows(peaks, entitlements.current(), period=period)
    answer = fleet.get("/compliance", params=PERIOD)
    assert answer.status_code == 200
    assert answer.json() == [compliance_json(row) for row in expected]
    statuses = {row["id"]: row["status"] for row in answer.json()}
    assert statuses == {"mq-1": "NEAR", "cp4i": "OVER", "db2-1": "OK", "stray-1": "UNENTITLED"}
    assert answer.json()[-1] == {  # sorted by name: Cloud Pak, Db2, IBM MQ, Stray
        "name": "Stray",
        "id": "stray-1",
        "metricName": VPC,
        "entitled": 0,
        "metricQuantity": 1,
        "metricPeakDate": "2026-12-02",
        "headroom": -1,
        "usedPercent": None,
        "status": "UNENTITLED",
    }

    table = fleet.get("/compliance", params={**PERIOD, "format": "csv"})
    assert table.status_code == 200
    assert table.headers["content-type"].startswith("text/csv")
    assert "compliance_2026-12-01_2026-12-06.csv" in table.headers["content-disposition"]
    lines = list(csv.reader(io.StringIO(table.text)))
    assert tuple(lines[0]) == COMPLIANCE_API_NAMES
    assert lines[0][0] == "name"
    assert lines[0][-1] == "status"
    assert [line[-1] for line in lines[1:]] == ["OVER", "OK", "NEAR", "UNENTITLED"]

    only_pvu = fleet.get("/compliance", params={**PERIOD, "metricName": "PROCESSOR_VALUE_UNIT"})
    assert only_pvu.json() == []
    page = fleet.get("/status").text
    assert "Compliance of the fleet" in page
    assert "UNENTITLED" in page


def test_fleet_compliance_follows_the_period_rules_and_the_token(fleet: TestClient) -> None:
    backwards = fleet.get("/compliance", params={"dateFrom": "2026-12-05", "dateTo": "2026-12-01"})
    assert backwards.status_code == 400
    assert backwards.json()["status"] == 400
    refused = fleet.get("/compliance", params=PERIOD, headers={"Authorization": ""})
    assert refused.status_code == 401
    assert fleet.post("/compliance").status_code == 405


def test_an_invalid_entitlements_file_stops_the_reporter_at_start(tmp_path: Path) -> None:
    bad = tmp_path / "entitlements.yaml"
    bad.write_text(f"- {{name: MQ, productId: mq-1, metricName: {VPC}, quantity: -2}}\n")
    data_dir = tmp_path / "data"
    arguments = ["reporter", "--entitlements", str(bad), "--data-dir", str(data_dir)]
    arguments += ["--database-url", sqlite_url(tmp_path / "reporter.db")]
    refused = CliRunner().invoke(build_app(), arguments)
    assert refused.exit_code == 2, refused.output
    assert f"fix --entitlements {bad}" in refused.output
    assert not data_dir.exists()
    assert not (tmp_path / "reporter.db").exists()
    arguments[2] = str(tmp_path / "none.yaml")
    missing = CliRunner().invoke(build_app(), arguments)
    assert missing.exit_code == 2
    assert "entitlements file not found" in missing.output
