"""The Grafana dashboard of ``deploy/grafana`` (SPEC 13): valid JSON, queries on real metrics.

Every query must name only metrics that ``/metrics`` exposes (scraped here from the real
metrics app, with usage, entitlements and uncounted pods), and be valid PromQL for the
real ``promtool`` (each query is checked as a recording rule).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Final

import pytest
import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from license_service.configuration.entitlement_documents import parse_entitlements
from license_service.metering.usage import Measurement, PodProblems
from license_service.store.database import Database
from license_service.web.app_state import AppState
from license_service.web.metrics.metrics_app import create_metrics_app
from tests.prometheus_tools import promtool
from tests.store.sample_builders import VPC, at, bundled, product, service, store
from tests.web.conftest import World, sampling_status

DASHBOARD: Final = (
    Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "license-service-dashboard.json"
)
# PromQL words that are not metric names.
_PROMQL_WORDS: Final = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
    "sum", "max", "min", "avg", "count", "increase", "rate", "time", "label_values",
    "max_over_time", "min_over_time", "bool", "offset",
}  # fmt: skip
_LABEL_MATCHERS: Final = re.compile(r"\{[^}]*\}")
_GROUPINGS: Final = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_RANGES: Final = re.compile(r"\[[^\]]*\]")
_NAMES: Final = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def dashboard() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return document


def queries() -> list[str]:
    document = dashboard()
    found = [target["expr"] for panel in document["panels"] for target in panel["targets"]]
    found += [variable["query"]["query"] for variable in document["templating"]["list"]]
    return found


def metric_names(query: str) -> set[str]:
    """The metric names of a PromQL ``query`` (labels, groupings and functions left out)."""
    text = _RANGES.sub("", _GROUPINGS.sub("", _LABEL_MATCHERS.sub("", query)))
    text = re.sub(r"label_values\(([^,]+),[^)]*\)", r"\1", text)
    return {name for name in _NAMES.findall(text) if name not in _PROMQL_WORDS}


@pytest.fixture
def exposed(state: AppState, world: World, database: Database) -> set[str]:
    """Every sample name ``/metrics`` exposes with usage, entitlements and problems present."""
    store(database, at("2026-11-28", "09:00"), product("p1", 3), bundled("db2", 2))
    state.entitlements = lambda: parse_entitlements(
        f"- {{name: One, productId: p1, metricName: {VPC}, quantity: 4}}", source="test"
    )
    world.sampler = sampling_status(
        last_measurement=Measurement(
            products=(product("p1", 3),),
            bundled_products=(bundled("db2", 2),),
            services=(service("s1", 1),),
            incomplete_annotations=(PodProblems("ns", "pod", ()),),
        )
    )
    with TestClient(create_metrics_app(state, CollectorRegistry())) as metrics:
        text = metrics.get("/metrics").text
    return {
        sample.name for family in text_string_to_metric_families(text) for sample in family.samples
    }


def test_the_dashboard_is_json_grafana_can_import() -> None:
    document = dashboard()
    assert document["title"]
    assert document["uid"] == "license-service-compliance"
    assert [entry["name"] for entry in document["__inputs"]] == ["DS_PROMETHEUS"]
    assert len({panel["id"] for panel in document["panels"]}) == len(document["panels"])
    titles = " ".join(panel["title"] for panel in document["panels"]).lower()
    for subject in ("entitlement", "samples and gaps", "pods not counted"):
        assert subject in titles


def test_every_query_names_metrics_that_the_service_exposes(exposed: set[str]) -> None:
    for query in queries():
        names = metric_names(query)
        assert names, query
        assert names <= exposed, f"{query}: {sorted(names - exposed)} not on /metrics"


def test_the_metric_name_reader_finds_names_and_skips_labels() -> None:
    query = 'max by (productId) (a_b{x="y"}) / on (productId) sum(increase(c_total[1h]))'
    assert metric_names(query) == {"a_b", "c_total"}


def test_every_query_is_valid_promql_for_promtool(tmp_path: Path) -> None:
    rules = [
        {"record": f"dashboard:query_{index}", "expr": query.replace("$instance", ".*")}
        for index, query in enumerate(queries())
        if not query.startswith("label_values(")
    ]
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    checked = promtool("check", "rules", path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
