"""The Kubernetes collector's figures for ``/metrics`` (SPEC 3.9): API calls, events, errors.

``KubernetesMetricsCollector`` turns ``CounterSnapshot`` values (of the pod collector,
and of the watches of the token Secret and the ``IBMLicensing`` resources) into
metric families at scrape time; snapshots of several loops are added up, label by
label. Families, each labelled by ``resource`` (``pods``, ``nodes``, ``namespaces``,
``secrets``, ``ibmlicensings``):

- ``license_service_kubernetes_list_calls_total``: list requests (one per page);
- ``license_service_kubernetes_watch_calls_total``: watch requests;
- ``license_service_kubernetes_watch_events_total`` (and ``type``): events received;
- ``license_service_kubernetes_errors_total`` (and ``kind``: ``http_<status>``,
  ``connect``, ``dropped``, ``decode``, ``unexpected``): failures;
- ``license_service_kubernetes_relists_total``: lists after the first (410 Gone);
- ``license_service_kubernetes_objects``: objects held now (gauge);
- ``license_service_kubernetes_synced``: 1 while the view is synchronised (gauge).

Labels hold resource names and error kinds only, never a URL, message or token.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Final

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from license_service.cluster.kubernetes.counters import CounterSnapshot

PREFIX: Final = "license_service_kubernetes"

_Counts = Mapping[str, int] | Mapping[tuple[str, str], int]
# Each counter family, in the order of the exposition: name (after PREFIX, before
# ``_total``), help text, labels, and the counts it takes from a snapshot.
_COUNTERS: Final[tuple[tuple[str, str, list[str], Callable[[CounterSnapshot], _Counts]], ...]] = (
    (
        "list_calls",
        "Kubernetes list requests (one per page), by resource",
        ["resource"],
        lambda snapshot: snapshot.list_calls,
    ),
    (
        "watch_calls",
        "Kubernetes watch requests, by resource",
        ["resource"],
        lambda snapshot: snapshot.watch_calls,
    ),
    (
        "watch_events",
        "Kubernetes watch events received, by resource and type",
        ["resource", "type"],
        lambda snapshot: snapshot.events,
    ),
    (
        "errors",
        "Failures talking to the Kubernetes API, by resource and kind",
        ["resource", "kind"],
        lambda snapshot: snapshot.errors,
    ),
    (
        "relists",
        "Kubernetes lists made again after the first (410 Gone), by resource",
        ["resource"],
        lambda snapshot: snapshot.relists,
    ),
)


class KubernetesMetricsCollector:
    """A Prometheus collector over the Kubernetes loops' counters, read at scrape time."""

    def __init__(
        self,
        *,
        snapshots: Callable[[], Sequence[CounterSnapshot]],
        object_counts: Callable[[], Mapping[str, int]],
        synced: Callable[[], bool],
    ) -> None:
        """Each callable is cheap and thread-safe (it is called at every scrape)."""
        self._snapshots = snapshots
        self._object_counts = object_counts
        self._synced = synced

    def describe(self) -> list[Metric]:
        """No families up front: the registry then learns them from the first ``collect``."""
        return []

    def collect(self) -> Iterator[Metric]:
        """The families, from the counters as they are now."""
        snapshots = self._snapshots()
        for name, documentation, labels, counts in _COUNTERS:
            yield _counter(
                name, documentation, labels, _sum(counts(snapshot) for snapshot in snapshots)
            )
        objects = GaugeMetricFamily(
            f"{PREFIX}_objects", "Kubernetes objects held now, by resource", labels=["resource"]
        )
        for resource, count in sorted(self._object_counts().items()):
            objects.add_metric([resource], count)
        yield objects
        yield GaugeMetricFamily(
            f"{PREFIX}_synced",
            "1 while the view of the cluster is synchronised with the Kubernetes API, else 0",
            value=1 if self._synced() else 0,
        )


def _sum(counts: Iterable[_Counts]) -> Counter[tuple[str, ...]]:
    total: Counter[tuple[str, ...]] = Counter()
    for mapping in counts:
        for key, value in mapping.items():
            total[key if isinstance(key, tuple) else (key,)] += value
    return total


def _counter(
    name: str, documentation: str, labels: list[str], values: Counter[tuple[str, ...]]
) -> CounterMetricFamily:
    family = CounterMetricFamily(f"{PREFIX}_{name}", documentation, labels=labels)
    for key, value in sorted(values.items()):
        family.add_metric(list(key), value)
    return family
