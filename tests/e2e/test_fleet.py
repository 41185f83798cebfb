"""Issue 17's join (SPEC 11), with real processes only: three ``license-service serve``, each
on a dump of another cluster (other products, other quantities) and with days of history
in its own SQLite store, push to one ``license-service reporter`` on PostgreSQL. Once the
Reporter holds each cluster's today, its ``/products`` and ``/bundled_products`` equal the
fleet values computed here, independently, from the three services' own answers for each
single day (the per-day sum over clusters; the highest; the earliest day reaching it),
and ``/clusters`` lists the three.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

import httpx
import pytest

from license_service.metering.cluster_view import ClusterId
from license_service.metering.ratios import parse_ratio
from license_service.metering.usage_rows import BundledProductUsage, ProductUsage
from license_service.store.database import Database, sqlite_url
from tests.e2e.processes import DUMP, ServiceProcess, eventually, start_service
from tests.e2e.reporter_process import start_reporter, token_of
from tests.store.conftest import fresh_postgres_schema, postgres_url_or_skip
from tests.store.sample_builders import store

pytestmark = pytest.mark.postgres

TODAY: Final = datetime.now(UTC).date()
FIRST: Final = TODAY - timedelta(days=4)
DAYS: Final = [FIRST + timedelta(days=n) for n in range((TODAY - FIRST).days + 1)]
VPC: Final = "VIRTUAL_PROCESSOR_CORE"
MQ: Final = ProductUsage("IBM MQ Advanced", "c661609261d5471fb4ff8970a36bccea", VPC, 0)
CP4I_ID: Final = "c8b82d189e7545f0892db9ef2731b90d"
CP4I: Final = ProductUsage("IBM Cloud Pak for Integration", CP4I_ID, VPC, 0)
ACE: Final = BundledProductUsage(
    "IBM App Connect Enterprise",
    "2ec59ac2d0a54a0b8c5e52b4e9e7ab1f",
    CP4I_ID,
    "IBM Cloud Pak for Integration",
    "2023.4.1",
    VPC,
    VPC,
    0,
    parse_ratio("2:1"),
)


@dataclass(frozen=True)
class Cluster:
    """A simulated cluster: its id (the dump's kube-system uid), the pods its dump leaves
    out of the fixture dump, and its earlier days (sampled once at noon)."""

    cluster_id: str
    left_out: frozenset[str]
    history: Mapping[date, tuple[ProductUsage | BundledProductUsage, ...]]


def _mq(quantity: int) -> ProductUsage:
    return MQ._replace(quantity=quantity)


# MQ: 10 + 1 + 1 on FIRST, 5 + 4 + 3 on FIRST + 2 (cluster b's own peak day), 4 + 2 + 4
# today (the dumps): 12 twice, so the earliest is the fleet's peak day. Nobody sampled on
# the day before today. App Connect (measured 3 + 3 + 1 today) peaks on FIRST + 1 with 8;
# the Cloud Pak (its product row, summed whole: 4 + 4 + 1) today.
CLUSTERS: Final = (
    Cluster(
        "0f1ee7a0-0000-4000-8000-00000000000a",
        frozenset(),
        {
            FIRST: (_mq(10),),
            FIRST + timedelta(days=1): (
                _mq(1),
                CP4I._replace(quantity=4),
                ACE._replace(measured_quantity=8),
            ),
            FIRST + timedelta(days=2): (_mq(5),),
        },
    ),
    Cluster(
        "0f1ee7a0-0000-4000-8000-00000000000b",
        frozenset({"qm-prod-ibm-mq-1", "was-liberty-0", "ace-server-85d6b7c4f9-w7mzt"}),
        {
            FIRST: (_mq(1),),
            FIRST + timedelta(days=1): (_mq(2),),
            FIRST + timedelta(days=2): (_mq(4),),
        },
    ),
    Cluster(
        "0f1ee7a0-0000-4000-8000-00000000000c",
        frozenset(
            {"ace-dashboard-6f7c9d8b5-k2x9q", "apic-gateway-0", "inventory-api-7b5d9c6f4-zr2lp"}
        ),
        {
            FIRST: (_mq(1),),
            FIRST + timedelta(days=1): (_mq(1),),
            FIRST + timedelta(days=2): (_mq(3),),
        },
    ),
)


def write_dump(path: Path, cluster: Cluster) -> Path:
    """The fixture dump as ``cluster``'s: its kube-system uid, without its left-out pods."""
    document = json.loads(DUMP.read_text(encoding="utf-8"))
    items = []
    for item in document["items"]:
        metadata = item["metadata"]
        if metadata["name"] in cluster.left_out:
            continue
        if item["kind"] == "Namespace" and metadata["name"] == "kube-system":
            metadata["uid"] = cluster.cluster_id
        items.append(item)
    document["items"] = items
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def write_history(data_dir: Path, cluster: Cluster) -> None:
    """One sample a day of ``cluster.history`` in the data directory's SQLite store."""
    data_dir.mkdir(mode=0o700)
    database = Database.open(sqlite_url(data_dir / "license-service.db"))
    try:
        for day, usages in sorted(cluster.history.items()):
            taken_at = datetime.combine(day, time(12), tzinfo=UTC)
            store(database, taken_at, *usages, cluster_id=ClusterId(cluster.cluster_id))
    finally:
        database.dispose()
    (data_dir / "license-service.db").chmod(0o600)


@pytest.fixture
def reporter(tmp_path: Path) -> Iterator[ServiceProcess]:
    with fresh_postgres_schema(postgres_url_or_skip()) as url:
        started = start_reporter(tmp_path, url)
        try:
            yield started
        finally:
            started.stop()


@pytest.fixture
def services(tmp_path: Path, reporter: ServiceProcess) -> Iterator[list[ServiceProcess]]:
    """The three services, each on a store that already holds its history: the push at
    start waits for the first sample of the run, so it carries today's usage too."""
    token_file = reporter.data_dir / "token"
    flags = ("--reporter-url", reporter.url, "--reporter-token-file", str(token_file))
    started: list[ServiceProcess] = []
    try:
        for cluster in CLUSTERS:
            run_dir = tmp_path / cluster.cluster_id
            run_dir.mkdir()
            write_history(run_dir / "data", cluster)
            dump = write_dump(run_dir / "dump.json", cluster)
            started.append(start_service(run_dir, dumps=(dump,), extra=flags))
        yield started
    finally:
        for service in started:
            service.stop()


def reporter_get(reporter: ServiceProcess, path: str, **params: str) -> Any:
    answer = httpx.get(
        f"{reporter.url}{path}",
        params=params,
        headers={"Authorization": f"Bearer {token_of(reporter)}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def service_day(service: ServiceProcess, path: str, day: date) -> list[dict[str, Any]]:
    """The service's own rows of ``path`` for the single day ``day``."""
    answer = httpx.get(
        f"{service.url}{path}",
        params={"dateFrom": day.isoformat(), "dateTo": day.isoformat(), "token": service.token},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    rows: list[dict[str, Any]] = answer.json()
    return rows


def fleet_values(
    services: list[ServiceProcess], path: str, *, key: tuple[str, ...], value: str
) -> dict[tuple[Any, ...], tuple[date, int, dict[str, Any]]]:
    """Per key: the highest over the days of the sum over the services of their value of
    that day, the earliest day reaching it, and a row of the key (for its names)."""
    sums: dict[tuple[Any, ...], dict[date, int]] = {}
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for service in services:
        for day in DAYS:
            for row in service_day(service, path, day):
                found = tuple(row[name] for name in key)
                by_day = sums.setdefault(found, {})
                by_day[day] = by_day.get(day, 0) + row[value]
                rows[found] = row
    values = {}
    for found, by_day in sums.items():
        highest = max(by_day.values())
        values[found] = (min(d for d, v in by_day.items() if v == highest), highest, rows[found])
    return values


def _reported_today(reporter: ServiceProcess) -> list[dict[str, Any]] | None:
    """``/clusters`` once the Reporter holds each cluster's today with its usage (read
    after those checks: a list read before them could miss the last cluster's push)."""
    today = {"dateFrom": TODAY.isoformat(), "dateTo": TODAY.isoformat()}
    for cluster in CLUSTERS:
        if not reporter_get(reporter, "/products", clusterId=cluster.cluster_id, **today):
            return None
    clusters: list[dict[str, Any]] = reporter_get(
        reporter, "/clusters", dateFrom=FIRST.isoformat(), dateTo=TODAY.isoformat()
    )
    return clusters


def test_three_services_push_and_the_reporter_shows_their_per_day_sums(
    reporter: ServiceProcess, services: list[ServiceProcess]
) -> None:
    clusters = eventually(
        lambda: _reported_today(reporter), within=45, what="each cluster's today at the Reporter"
    )
    assert sorted(c["clusterId"] for c in clusters) == sorted(c.cluster_id for c in CLUSTERS)
    assert all(c["keyFingerprint"].startswith("SHA256:") for c in clusters)
    assert [c["missingDays"] for c in clusters] == [[], [], []]
    period = {"dateFrom": FIRST.isoformat(), "dateTo": TODAY.isoformat()}

    expected = fleet_values(services, "/products", key=("id", "metricName"), value="metricQuantity")
    products = reporter_get(reporter, "/products", **period)
    assert {(r["id"], r["metricName"]): r for r in products} == {
        found: {**row, "metricPeakDate": day.isoformat(), "metricQuantity": quantity}
        for found, (day, quantity, row) in expected.items()
    }
    # The independent sums are the designed ones: the test cannot pass on empty answers.
    assert expected[(MQ.id, VPC)][:2] == (FIRST, 12)
    assert expected[(CP4I_ID, VPC)][:2] == (TODAY, 4 + 4 + 1)

    bundled_key = (
        "cloudpakId",
        "cloudpakMetricName",
        "productId",
        "metricName",
        "metricConversion",
    )
    expected_bundled = fleet_values(
        services, "/bundled_products", key=bundled_key, value="metricMeasuredQuantity"
    )
    bundled = reporter_get(reporter, "/bundled_products", **period)
    assert {tuple(r[name] for name in bundled_key): _exact(r) for r in bundled} == {
        found: {
            **row,
            "metricPeakDate": day.isoformat(),
            "metricMeasuredQuantity": measured,
            # Converted from the summed measure: measured * b / a of the ratio "a:b".
            "metricConvertedQuantity": _converted(measured, row["metricConversion"]),
        }
        for found, (day, measured, row) in expected_bundled.items()
    }
    ace = (CP4I_ID, VPC, ACE.product_id, VPC, "2:1")
    assert expected_bundled[ace][:2] == (FIRST + timedelta(days=1), 8)


def _converted(measured: int, ratio: str) -> Fraction:
    a, b = (int(part) for part in ratio.split(":"))
    return Fraction(measured * b, a)


def _exact(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with its converted quantity as an exact fraction (JSON gives 1.5 or 4)."""
    return {**row, "metricConvertedQuantity": Fraction(str(row["metricConvertedQuantity"]))}
