"""Every benchmark of ``bench/`` runs at a tiny size and reports figures, so none can rot.

These check that the benchmarks run end to end and produce their figures, checks
and file, never how fast anything is: speeds are for ``make bench`` and
``bench/RESULTS.md``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from bench.cluster_generator import (
    ClusterShape,
    generate_cluster,
    list_pages,
    watch_events,
)
from bench.fleet_pusher import rows_per_day
from bench.history import HistoryStore
from bench.load_generator import percentile
from bench.reference_translation import pod_from_json
from bench.results import BenchmarkResult, Figure, at_least, at_most, results_markdown
from bench.scales import SMOKE

from bench import (
    api_benchmark,
    chargeback_benchmark,
    cluster_benchmarks,
    explained_api_benchmark,
    explanation_benchmark,
    fleet_benchmark,
    snapshot_benchmark,
    store_benchmark,
    upload_benchmark,
)
from license_service.metering.cluster_view import LICENSE_ANNOTATIONS
from tests.store.conftest import postgres_url_or_skip


def assert_reports_figures(result: BenchmarkResult, number: int) -> None:
    assert result.number == number
    assert result.figures
    assert result.checks
    values = [figure.value for figure in result.figures] + [check.value for check in result.checks]
    assert all(math.isfinite(value) and value >= 0 for value in values), result


def test_generated_pods_are_realistic_and_a_third_of_them_licensed() -> None:
    cluster = generate_cluster(ClusterShape(pods=600, nodes=30))
    items = list(cluster.pod_items())
    pods = [pod_from_json(json.loads(item)) for item in items]

    mean_size = sum(len(item) for item in items) / len(items)
    licensed = sum(1 for pod in pods if "productID" in pod.annotations)
    assert 5_000 <= mean_size <= 10_000
    assert 0.2 <= licensed / len(pods) <= 0.5
    assert {pod.node_name for pod in pods} <= set(cluster.node_names)
    assert all(set(pod.annotations) <= LICENSE_ANNOTATIONS for pod in pods)
    assert len(cluster.node_names) == 30


def test_the_same_shape_renders_the_same_bytes() -> None:
    shape = ClusterShape(pods=50, nodes=5, seed=3)

    first = generate_cluster(shape)
    second = generate_cluster(shape)

    assert list(first.pod_items()) == list(second.pod_items())
    assert list(first.node_items()) == list(second.node_items())


def test_list_pages_chain_by_continue_tokens_and_hold_every_item() -> None:
    cluster = generate_cluster(ClusterShape(pods=25, nodes=3))

    pages = [
        json.loads(page)
        for page in list_pages("Pod", cluster.pod_items(), page_size=10, resource_version="7")
    ]

    assert [page["metadata"].get("continue") for page in pages] == ["page-1", "page-2", None]
    assert sum(len(page["items"]) for page in pages) == 25
    assert {page["metadata"]["resourceVersion"] for page in pages} == {"7"}


def test_watch_events_carry_increasing_versions_and_every_event_type() -> None:
    cluster = generate_cluster(ClusterShape(pods=100, nodes=5))

    events = [json.loads(line) for line in watch_events(cluster, count=200, first_version=1000)]

    versions = [int(event["object"]["metadata"]["resourceVersion"]) for event in events]
    assert versions == list(range(1000, 1200))
    assert {event["type"] for event in events} == {"ADDED", "MODIFIED", "DELETED"}
    assert all(event["object"]["kind"] == "Pod" for event in events)


def test_percentiles_are_nearest_rank() -> None:
    values = [float(value) for value in range(1, 101)]

    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([], 0.99) == 0.0


def test_the_results_file_lists_the_machine_every_figure_and_every_target() -> None:
    result = BenchmarkResult(
        4,
        "One sample",
        figures=(Figure("measure", 150.0, "ms"),),
        checks=(at_most("one sample", 150.0, 200.0, "ms"), at_least("share", 0.4, 0.5, "x")),
        notes=("what limits it",),
    )

    text = results_markdown(
        [result], machine={"cpu": "a CPU"}, command="make bench", total_seconds=60, scale="tiny"
    )

    assert "- cpu: a CPU" in text
    assert "| 4. One sample | one sample | 150 ms | <= 200 ms | met |" in text
    assert "| 4. One sample | share | 0.40x | >= 0.50x | MISSED |" in text
    assert "- what limits it" in text
    assert "make bench" in text


def test_the_cluster_benchmarks_report_sync_memory_watch_and_sample_figures() -> None:
    results = cluster_benchmarks.run(SMOKE)

    assert [result.number for result in results] == [1, 2, 3, 4]
    for number, result in enumerate(results, start=1):
        assert_reports_figures(result, number)
    figures = {figure.label: figure.value for figure in results[0].figures}
    assert figures["pods / nodes / namespaces synchronised"] == SMOKE.pods
    watched = {figure.label: figure.value for figure in results[2].figures}
    assert watched["events applied"] == SMOKE.watch_events


def test_the_store_benchmark_reports_sqlite_figures() -> None:
    result = store_benchmark.run(SMOKE)

    assert_reports_figures(result, 5)
    labels = [figure.label for figure in result.figures]
    assert "SQLite: record_sample, median" in labels
    reached = store_benchmark.postgres_problem(store_benchmark.postgres_url()) is None
    assert ("PostgreSQL: record_sample, median" in labels) == reached


def test_the_api_and_snapshot_benchmarks_report_figures_for_every_endpoint(
    tmp_path: Path,
) -> None:
    with HistoryStore(products=SMOKE.products, days=SMOKE.days, directory=tmp_path) as history:
        api = api_benchmark.run(SMOKE, history)
        snapshot = snapshot_benchmark.run(SMOKE, history)

    assert_reports_figures(api, 6)
    assert not [note for note in api.notes if "answered" in note]
    for endpoint in api_benchmark.endpoints(history):
        assert any(figure.label.startswith(endpoint.label) for figure in api.figures)
    assert_reports_figures(snapshot, 7)
    rows = {figure.label: figure.value for figure in snapshot.figures}
    assert rows["CSV rows in the snapshot"] > 0


def test_the_explanation_benchmark_compares_samples_with_and_without_explanations() -> None:
    result = explanation_benchmark.run(SMOKE)

    assert_reports_figures(result, 9)
    figures = {figure.label: figure.value for figure in result.figures}
    cluster = figures["explained rows kept by a sample raising every peak: cluster"]
    assert cluster > 0
    (grouped,) = (
        value
        for label, value in figures.items()
        if label.startswith("explained rows kept by a sample raising every peak: cluster and")
    )
    assert grouped > cluster


def test_the_explained_api_benchmark_loads_usage_explained() -> None:
    result = explained_api_benchmark.run(SMOKE)

    assert_reports_figures(result, 10)
    assert any("/usage_explained (2,000 rows)" in check.label for check in result.checks)


def test_the_chargeback_benchmark_times_one_sample_with_and_without_groups() -> None:
    result = chargeback_benchmark.run(SMOKE)
    assert_reports_figures(result, 8)
    assert any("with groups / without" in check.label for check in result.checks)


def test_the_upload_benchmark_reports_items_per_second_and_the_cost_on_products() -> None:
    result = upload_benchmark.run(SMOKE)

    assert_reports_figures(result, 11)
    labels = " ".join(figure.label for figure in result.figures)
    assert "SQLite" in labels
    assert any("/products" in check.label for check in result.checks)


@pytest.mark.postgres
def test_the_fleet_benchmark_pushes_reads_and_writes_the_plain_zip() -> None:
    postgres_url_or_skip()  # the benchmark itself only notes an unreachable server

    result = fleet_benchmark.run(SMOKE)

    assert_reports_figures(result, 12)
    figures = {figure.label: figure.value for figure in result.figures}
    expected = SMOKE.fleet_clusters * SMOKE.fleet_days * rows_per_day(SMOKE.fleet_products)
    assert figures["rows pushed (products, bundled products, services)"] == expected
    assert figures["Reporter peak resident memory (VmHWM)"] > 0
    assert figures["plain: CSV files"] == 1 + 4 * (1 + SMOKE.fleet_clusters)
    assert any(check.label.endswith("clients: p99") for check in result.checks)
    snapshot = any("GET /snapshot" in label for label in figures)
    skipped = any("SKIPPED" in note and "/snapshot" in note for note in result.notes)
    assert snapshot != skipped
