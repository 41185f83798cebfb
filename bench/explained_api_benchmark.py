"""Benchmark 10: ``/usage_explained`` under load (SPEC 9), p99 at 16 clients.

``license-service serve`` runs on a history store (``history.HistoryStore``: the
catalogue's daily peaks of ``products`` products, ``EXPLAINED_DAYS`` days ending today)
in which the peak day of the last 30 days of one product keeps a breakdown of
``CONTRIBUTIONS`` rows (a product spread over a large cluster). The load generator
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
from license_service.metering.periods import DatePeriod
from license_service.metering.usage_explanations import (
    WHOLE_CLUSTER,
    Contribution,
    ExplainedRow,
    UsageExplanation,
)
from license_service.store.database import Database
from license_service.store.usage_explanations import keep_explanations, peak_days

EXPLAINED_DAYS: Final = 62
CONTRIBUTIONS: Final = 2_000


def _keep_a_breakdown(history: HistoryStore) -> tuple[str, str]:
    """Keep a breakdown for the peak day of a stand-alone product; its id and metric."""
    product = next(
        row
        for row in catalogue_measurement(history.products).products
        if row.id.startswith("product-")  # a stand-alone product, not a Cloud Pak
    )
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
                for index in range(CONTRIBUTIONS)
            )
            keep_explanations(
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
        product_id, metric = _keep_a_breakdown(history)
        with ServedStore(history, work_dir=history.data_dir.parent) as served:
            explained = (
                f"{served.url}/usage_explained?productId={product_id}&metricName={metric}"
                f"&token={served.token}"
            )
            first = _load(explained, clients=1, seconds=0)
            if first["statuses"] != {"200": 1}:
                raise RuntimeError(f"/usage_explained answered {first['statuses']}")
            figures.append(Figure("/usage_explained: first request", first["max_ms"], "ms"))
            loads: dict[int, dict[str, Any]] = {}
            minimal: dict[int, dict[str, Any]] = {}
            for clients in scale.api_clients:
                for label, url in (
                    ("minimal /livez", f"{served.url}/livez"),
                    ("/usage_explained", explained),
                ):
                    load = _load(url, clients=clients, seconds=scale.api_seconds)
                    who = f"{label}, {clients} client{'s' if clients > 1 else ''}"
                    figures += [
                        Figure(f"{who}: requests/s", load["requests_per_second"], "req/s"),
                        Figure(f"{who}: p50", load["p50_ms"], "ms"),
                        Figure(f"{who}: p99", load["p99_ms"], "ms"),
                    ]
                    (loads if label == "/usage_explained" else minimal)[clients] = load
    most = max(scale.api_clients)
    checks.append(
        at_most(
            f"/usage_explained, {most} clients: p99", loads[most]["p99_ms"], P99_TARGET_MS, "ms"
        )
    )
    checks.append(
        ratio(
            f"/usage_explained, {most} clients: p99 / minimal endpoint's p99",
            loads[most]["p99_ms"] / minimal[most]["p99_ms"] if minimal[most]["p99_ms"] else 0.0,
        )
    )
    return BenchmarkResult(
        10,
        "/usage_explained throughput and latency (license-service serve)",
        figures=tuple(figures),
        checks=tuple(checks),
        notes=(
            f"Store: {history.products:,} products x {history.days} days of daily peaks; the "
            f"breakdown answered holds {CONTRIBUTIONS:,} rows (about "
            f"{CONTRIBUTIONS * 190 // 1000} KB of JSON per answer). The first answer is computed "
            "from the store (cold); during the loads the server samples every 300 s, as by "
            "default, and each sample (a write) drops the kept bodies.",
        ),
        seconds=time.perf_counter() - started,
    )
