"""A real Prometheus scrapes a running service and raises the compliance alerts (SPEC 13).

``license-service serve`` measures the fixture dump (IBM MQ Advanced at 4 VPC) with an
entitlements file of 3 VPC; Debian's ``prometheus`` scrapes its metrics port every second
with a copy of the shipped rules whose waits (``for:``) are cut to nothing (the shipped
rules themselves are tested by ``promtool`` in tests/deploy). Prometheus's query API
must show the over-entitlement alert pending or firing for that product, and the
entitlement and usage series as the service exposes them. A second entitlements file
(10 VPC) written while both run must silence the alert: the file is followed live.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.e2e.processes import ServiceProcess, eventually, free_port, start_service
from tests.e2e.stored_history import MQ_ID, VPC, entitlements_file
from tests.prometheus_tools import prometheus_tool

REPOSITORY = Path(__file__).resolve().parents[2]
RULES = REPOSITORY / "deploy" / "alerts" / "license-service.rules.yml"


@dataclass
class Prometheus:
    """A running Prometheus server and its HTTP API."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def alerts(self) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.url}/api/v1/alerts", timeout=5)
        answer.raise_for_status()
        alerts: list[dict[str, Any]] = answer.json()["data"]["alerts"]
        return alerts

    def query(self, expression: str) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.url}/api/v1/query", params={"query": expression}, timeout=5)
        answer.raise_for_status()
        result: list[dict[str, Any]] = answer.json()["data"]["result"]
        return result


def quick_rules(target: Path) -> Path:
    """The shipped rules with every ``for:`` wait cut to 0s (for a test that runs seconds)."""
    text = re.sub(r"for: \w+", "for: 0s", RULES.read_text(encoding="utf-8"))
    target.write_text(text, encoding="utf-8")
    return target


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ServiceProcess]:
    bought = entitlements_file(tmp_path / "entitlements.yaml", 3)
    started = start_service(tmp_path, extra=["--entitlements", str(bought)])
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def prometheus(service: ServiceProcess, tmp_path: Path) -> Iterator[Prometheus]:
    binary = prometheus_tool("prometheus")
    rules = quick_rules(tmp_path / "rules.yml")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [str(rules)],
                "scrape_configs": [
                    {
                        "job_name": "license-service",
                        "static_configs": [{"targets": [f"127.0.0.1:{service.metrics_port}"]}],
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    port = free_port()
    log = tmp_path / "prometheus.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                str(binary),
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = Prometheus(process, f"http://127.0.0.1:{port}", log)
    try:
        eventually(lambda: _ready(server), within=30, what="Prometheus answering /-/ready")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _ready(server: Prometheus) -> bool:
    if server.process.poll() is not None:
        pytest.fail(f"prometheus exited: {server.log.read_text()[-2000:]}")
    try:
        return httpx.get(f"{server.url}/-/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _mq_alerts(server: Prometheus, name: str) -> list[dict[str, Any]]:
    return [
        alert
        for alert in server.alerts()
        if alert["labels"].get("alertname") == name
        and alert["labels"].get("productId") == MQ_ID
        and alert["state"] in {"pending", "firing"}
    ]


def test_prometheus_raises_the_over_entitlement_alert_and_drops_it_when_more_is_bought(
    service: ServiceProcess, prometheus: Prometheus
) -> None:
    [over] = eventually(
        lambda: _mq_alerts(prometheus, "LicenseUsageOverEntitlement"),
        within=45,
        what="the alert LicenseUsageOverEntitlement of IBM MQ Advanced in Prometheus",
    )
    assert over["labels"]["metricId"] == VPC
    assert over["labels"]["severity"] == "critical"
    assert float(over["value"]) == 4
    assert _mq_alerts(prometheus, "LicenseUsageNearEntitlement")
    [entitled] = prometheus.query(f'license_service_entitlement_quantity{{productId="{MQ_ID}"}}')
    assert entitled["value"][1] == "3"
    [usage] = prometheus.query(f'product_license_usage{{productId="{MQ_ID}"}}')
    assert usage["metric"]["value"] == "4"

    entitlements_file(service.data_dir.parent / "entitlements.yaml", 10)
    eventually(
        lambda: (
            not _mq_alerts(prometheus, "LicenseUsageOverEntitlement")
            and not _mq_alerts(prometheus, "LicenseUsageNearEntitlement")
        ),
        within=45,
        what="the alerts of IBM MQ Advanced ending once 10 VPC are entitled",
    )
