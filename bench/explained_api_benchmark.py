"""Benchmark 10: ``/usage_explained`` under load (SPEC 9), p99 at 16 clients.

``license-service serve`` runs on a history store (``history.HistoryStore``: the
catalogue's daily peaks of ``products`` products, ``EXPLAINED_DAYS`` days ending today)
in which the peak day of the last 30 days of one product keeps a breakdown of
``SIZES`` rows (a product on a few hundred workload-node pairs, and one spread over a
large cluster). The load generator
(``bench.load_generator``) then asks ``/usage_explained`` for it without a date, as
a person following the status page's link does. The first answer looks the peak day
up, reads, decompresses and writes the breakdown as JSON; the others come from the
kept bodies until the next write (a sample). Figures at 1 and 16 clients, beside
``/livez`` measured in the same minute (the machine's load moves both alike).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, Final

from bench.api_benchmark import P99_TARGET_MS, ServedStore, _load
from bench.history import CLUSTER, HistoryStore, catalogue_measurement
from bench.results import BenchmarkResult, Check, Figure, at_most, ratio
from bench.scales import Scale
from license_service.metering.explanation_cells import ExplainedRow
from license_service.metering.periods import DatePeriod
from license_service.metering.usage_explanations import (
    WHOLE_CLUSTER,
    Contribution,
    UsageExplanation,
)
from license_service.store.database import Database
from license_service.store.usage_explanations import keep_written_out, peak_days

EXPLAINED_DAYS: Final = 62
SIZES: Final = (200, 2_000)
"""Rows of the breakdowns answered: a product on a few hundred (workload, node) pairs, and a
large one."""


def _keep_a_breakdown(history: HistoryStore, *, index: int, size: int) -> tuple[str, str]:
    """Keep a breakdown of ``size`` rows for the peak day of the ``index``-th stand-alone
    product; its id and metric."""
    product = [
        row
        for row in catalogue_measurement(history.products).products
        if row.id.startswith("product-")  # a stand-alone product, not a Cloud Pak
    ][index]
    database = Database.open(history.database_url)
    try:
        with database.begin() as connection:
            own, _ = peak_days(
                connection,
                cluster_id=CLUSTER,
                period=DatePeriod.ending(history.last_day),
                product_id=product.id,
                metric=product.metric,
            )
            contributions = tuple(
                Contribution(
                    f"team-{index % 40:02}",
                    "Deployment",
                    f"service-{index // 10:04}",
                    f"node-{index * 7919 % 5000:05}",
                    3,
                    6,
                    1500,
                    1500 - index % 3,
                    70,
                )
                for index in range(size)
            )
            keep_written_out(
                connection,
                cluster_id=CLUSTER,
                day=own[0].day,
                group_name=WHOLE_CLUSTER,
                sample_at=datetime.combine(own[0].day, datetime.min.time(), tzinfo=UTC),
                explanations=[
                    UsageExplanation(
                        row=ExplainedRow("", "", product.id, product.metric, ""),
                        product_name=product.name,
                        metric_quantity=own[0].quantity,
                        threads_per_core=1,
                        total_millicores=sum(c.capped_millicores for c in contributions),
                        contributions=contributions,
                    )
                ],
            )
    finally:
        database.dispose()
    return product.id, product.metric


def run(scale: Scale) -> BenchmarkResult:
    """Benchmark 10 at ``scale``."""
    started = time.perf_counter()
    figures: list[Figure] = []
    checks: list[Check] = []
    with HistoryStore(products=scale.products, days=min(scale.days, EXPLAINED_DAYS)) as history:
        asked = {
            size: _keep_a_breakdown(history, index=number, size=size)
            for number, size in enumerate(SIZES)
        }
        with ServedStore(history, work_dir=history.data_dir.parent) as served:
            urls = {
                f"/usage_explained ({size:,} rows)": (
                    f"{served.url}/usage_explained?productId={product_id}&metricName={metric}"
                    f"&token={served.token}"
                )
                for size, (product_id, metric) in asked.items()
            }
            for label, url in urls.items():
                first = _load(url, clients=1, seconds=0)
                if first["statuses"] != {"200": 1}:
                    raise RuntimeError(f"{label} answered {first['statuses']}")
                figures.append(Figure(f"{label}: first request (cold)", first["max_ms"], "ms"))
            loads: dict[tuple[str, int], dict[str, Any]] = {}
            for clients in scale.api_clients:
                for label, url in (("minimal /livez", f"{served.url}/livez"), *urls.items()):
                    load = _load(url, clients=clients, seconds=scale.api_seconds)
                    who = f"{label}, {clients} client{'s' if clients > 1 else ''}"
                    figures += [
                        Figure(f"{who}: requests/s", load["requests_per_second"], "req/s"),
                        Figure(f"{who}: p50", load["p50_ms"], "ms"),
                        Figure(f"{who}: p99", load["p99_ms"], "ms"),
                    ]
                    loads[(label, clients)] = load
    most = max(scale.api_clients)
    minimal = loads[("minimal /livez", most)]["p99_ms"]
    for label in urls:
        p99 = loads[(label, most)]["p99_ms"]
        checks.append(at_most(f"{label}, {most} clients: p99", p99, P99_TARGET_MS, "ms"))
        checks.append(
            ratio(
                f"{label}, {most} clients: p99 / minimal endpoint's p99",
                p99 / minimal if minimal else 0.0,
            )
        )
    return BenchmarkResult(
        10,
        "/usage_explained throughput and latency (license-service serve)",
        figures=tuple(figures),
        checks=tuple(checks),
        notes=(
            f"Store: {history.products:,} products x {history.days} days of daily peaks; the "
            "breakdowns answered hold "
            + " and ".join(
                f"{size:,} rows (about {size * 190 // 1000} KB of JSON)" for size in SIZES
            )
            + ". The first answer is computed "
            "from the store (cold); during the loads the server samples every 300 s, as by "
            "default, and each sample (a write) drops the kept bodies.",
        ),
        seconds=time.perf_counter() - started,
    )
