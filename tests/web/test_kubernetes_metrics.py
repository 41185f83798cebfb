"""The Kubernetes figures on /metrics: counters of every loop added up, read at scrape time."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from license_service.cluster.kubernetes.counters import CollectorCounters, CounterSnapshot
from license_service.web.metrics.kubernetes_metrics import KubernetesMetricsCollector


def scrape(
    *snapshots: CounterSnapshot, synced: bool = True, objects: dict[str, int] | None = None
) -> list[str]:
    registry = CollectorRegistry(auto_describe=True)
    registry.register(
        KubernetesMetricsCollector(
            snapshots=lambda: snapshots,
            object_counts=lambda: objects or {},
            synced=lambda: synced,
        )
    )
    return [
        line for line in generate_latest(registry).decode().splitlines() if not line.startswith("#")
    ]


def test_the_counters_of_several_loops_are_added_up_per_label() -> None:
    collector_counters, watch_counters = CollectorCounters(), CollectorCounters()
    collector_counters.count_list_call("pods")
    collector_counters.count_list_call("pods")
    collector_counters.count_error("pods", "http_410")
    collector_counters.count_relist("pods")
    watch_counters.count_list_call("secrets")
    watch_counters.count_watch_call("secrets")
    watch_counters.count_events("secrets", {"MODIFIED": 2, "BOOKMARK": 1})
    watch_counters.count_error("pods", "http_410")

    lines = scrape(collector_counters.snapshot(), watch_counters.snapshot(), objects={"pods": 7})

    assert lines == [
        'license_service_kubernetes_list_calls_total{resource="pods"} 2.0',
        'license_service_kubernetes_list_calls_total{resource="secrets"} 1.0',
        'license_service_kubernetes_watch_calls_total{resource="secrets"} 1.0',
        'license_service_kubernetes_watch_events_total{resource="secrets",type="BOOKMARK"} 1.0',
        'license_service_kubernetes_watch_events_total{resource="secrets",type="MODIFIED"} 2.0',
        'license_service_kubernetes_errors_total{kind="http_410",resource="pods"} 2.0',
        'license_service_kubernetes_relists_total{resource="pods"} 1.0',
        'license_service_kubernetes_objects{resource="pods"} 7.0',
        "license_service_kubernetes_synced 1.0",
    ]


def test_the_figures_are_read_at_each_scrape() -> None:
    counters = CollectorCounters()
    registry = CollectorRegistry(auto_describe=True)
    registry.register(
        KubernetesMetricsCollector(
            snapshots=lambda: (counters.snapshot(),), object_counts=dict, synced=lambda: False
        )
    )
    counters.count_watch_call("nodes")

    text = generate_latest(registry).decode()

    assert 'license_service_kubernetes_watch_calls_total{resource="nodes"} 1.0' in text
    assert "license_service_kubernetes_synced 0.0" in text
