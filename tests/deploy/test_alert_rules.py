"""The shipped alert rules (SPEC 13): valid for the real promtool, each alert unit-tested.

``deploy/alerts/license-service.rules.yml`` is checked by ``promtool check rules`` and
tested by ``promtool test rules`` with ``alerts/license-service.rules.test.yml``, which
holds, for every alert, a case where it fires and one where it stays silent (checked
here too). A copy with a changed threshold must fail those tests, so they can fail. The
chart's PrometheusRule carries the same groups, and its ServiceMonitor scrapes every 5
minutes, only with ``alerting.enabled``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.chart import DEPLOY, NAMESPACE, find, of_kind, rendered_objects
from tests.prometheus_tools import promtool

RULES = DEPLOY / "alerts" / "license-service.rules.yml"
RULE_TESTS = Path(__file__).parent / "alerts" / "license-service.rules.test.yml"
ALERTS = {
    "LicenseUsageNearEntitlement",
    "LicenseUsageOverEntitlement",
    "LicenseUsageUnentitled",
    "LicenseServiceNoSample",
    "LicenseServicePodsNotCounted",
    "LicenseServiceApiTokenUnusable",
    "LicenseServiceEntitlementsRefused",
}


def groups_of(path: Path) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
    return groups


def test_promtool_accepts_the_shipped_rules() -> None:
    checked = promtool("check", "rules", RULES)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in checked.stdout


def test_every_alert_passes_its_promtool_unit_tests() -> None:
    tested = promtool("test", "rules", RULE_TESTS)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_the_rules_ship_exactly_the_alerts_of_section_13() -> None:
    shipped = {rule["alert"] for group in groups_of(RULES) for rule in group["rules"]}
    assert shipped == ALERTS


def test_every_alert_has_a_case_that_fires_and_one_that_stays_silent() -> None:
    cases = [
        case
        for test in yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))["tests"]
        for case in test["alert_rule_test"]
    ]
    fires = {case["alertname"] for case in cases if case["exp_alerts"]}
    silent = {case["alertname"] for case in cases if not case["exp_alerts"]}
    assert fires == ALERTS
    assert silent == ALERTS


@pytest.mark.parametrize(
    ("original", "changed"),
    [
        (">= 0.8 *", ">= 0.7 *"),
        ("> 900", "> 1200"),
        ("for: 1h", "for: 30m"),
        ("(license_service_api_token_usable) == 0", "(license_service_api_token_usable) == 2"),
        # Per replica again: every replica shows the leader's count, so one alert each.
        (
            "by (namespace, job) (license_service_uncounted_pods)",
            "by (job, instance) (license_service_uncounted_pods)",
        ),
        # "No sample since the start" told by the time shown, not by samples_taken_total.
        ("unless on (namespace, job)\n", "and on (namespace, job)\n"),
        # Usage and the sample time per replica again: one alert each.
        ("(namespace, job, productId, metricId)", "(job, instance, productId, metricId)"),
        (
            "max by (namespace, job) (max_over_time",
            "max by (job, instance) (max_over_time",
        ),
    ],
)
def test_the_unit_tests_fail_when_a_rule_changes(
    tmp_path: Path, original: str, changed: str
) -> None:
    rules_dir = tmp_path / "deploy" / "alerts"
    tests_dir = tmp_path / "tests" / "deploy" / "alerts"
    rules_dir.mkdir(parents=True)
    tests_dir.mkdir(parents=True)
    text = RULES.read_text(encoding="utf-8")
    assert original in text
    (rules_dir / RULES.name).write_text(text.replace(original, changed), encoding="utf-8")
    shutil.copy(RULE_TESTS, tests_dir / RULE_TESTS.name)
    tested = promtool("test", "rules", tests_dir / RULE_TESTS.name)
    assert tested.returncode != 0, tested.stdout


def test_the_chart_ships_the_same_rules_and_a_five_minute_scrape_when_alerting_is_on() -> None:
    objects = rendered_objects(["alerting.enabled=true", "alerting.labels.release=prometheus"])
    rule = find(objects, "PrometheusRule", "ibm-licensing-service-alerts")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["metadata"]["namespace"] == NAMESPACE
    assert rule["metadata"]["labels"]["release"] == "prometheus"
    assert rule["spec"]["groups"] == groups_of(RULES)
    monitor = find(objects, "ServiceMonitor", "ibm-licensing-service-metrics")
    assert monitor["spec"]["endpoints"] == [
        {"port": "metrics", "path": "/metrics", "interval": "5m"}
    ]
    service = find(objects, "Service", "ibm-licensing-service-metrics")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert "metrics" in {port["name"] for port in service["spec"]["ports"]}


def test_the_chart_ships_no_monitoring_objects_by_default() -> None:
    objects = rendered_objects()
    assert of_kind(objects, "PrometheusRule") == []
    assert of_kind(objects, "ServiceMonitor") == []


def test_the_promtool_copy_of_the_chart_rules_is_valid(tmp_path: Path) -> None:
    objects = rendered_objects(["alerting.enabled=true"])
    rule = find(objects, "PrometheusRule", "ibm-licensing-service-alerts")
    copy = tmp_path / "chart.rules.yml"
    copy.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}), encoding="utf-8")
    checked = promtool("check", "rules", copy)
    assert checked.returncode == 0, checked.stdout + checked.stderr
