"""``KubernetesSource``: the cluster as the list+watch loops know it, for the sampler and /health.

Three daemon threads (pods, nodes, namespaces) run ``ListWatch`` loops against one
``ApiClient``, each decoding its answers with a ``ProjectionDecoder`` into a
``CacheSink``; ``current`` only reads the cache, never the network. The state it
returns:

- ``view``: the projections held now; the same object until something changes.
- ``synced``: every resource finished its first list, no resource has been failing
  for ``reconnect_grace_seconds`` or longer, and the cluster id is known.
- ``observed_at``: the oldest of the resources' last confirmations (a list, an event,
  a bookmark, a watch that ended normally). While a watch is down it stops advancing,
  so the sampler's 15-minute staleness rule (SPEC 2.7) takes over. Before the first
  confirmation of every resource it is the instant the source was created.
- ``last_error``: the most recent unresolved failure (no secrets), else ``None``.
- ``cluster_id``: as configured, else the uid of the ``kube-system`` namespace.

``counters.snapshot()`` gives list/watch/event/error/re-list counts for metrics.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Final

from kubernetes import client

from license_service.cluster.decoding import Projection, projection_decoder
from license_service.cluster.dumps import UNKNOWN_CLUSTER_ID
from license_service.cluster.kubernetes.cluster_cache import CLUSTER_ID_NAMESPACE, ClusterCache
from license_service.cluster.kubernetes.counters import CollectorCounters
from license_service.cluster.kubernetes.list_watch import ListWatch
from license_service.cluster.kubernetes.resource_kinds import WATCHED_KINDS, ResourceKind
from license_service.cluster.kubernetes.resource_sink import CacheSink
from license_service.cluster.kubernetes.watch_options import WatchOptions
from license_service.cluster.source import ClusterState
from license_service.metering.cluster_view import ClusterId

DEFAULT_STOP_TIMEOUT_SECONDS: Final = 5.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


def resource_loop(
    kind: ResourceKind,
    *,
    core: client.CoreV1Api,
    cache: ClusterCache,
    counters: CollectorCounters,
    options: WatchOptions,
    stop: threading.Event,
    clock: Callable[[], datetime],
    sleep: Callable[[float], object] | None = None,
    uniform: Callable[[float, float], float] = random.uniform,
) -> ListWatch[Projection]:
    """The list+watch loop keeping ``cache``'s map of ``kind`` equal to the cluster's objects."""
    sink = CacheSink(kind, cache=cache, counters=counters)
    decoder = projection_decoder(kind.kind, on_refused=sink.refused)
    return ListWatch[Projection](
        kind.target(core),
        decoder=decoder,
        sink=sink,
        counters=counters,
        options=options,
        clock=clock,
        stop=stop,
        sleep=sleep,
        uniform=uniform,
    )


class KubernetesSource:
    """A ``ClusterSource`` kept current by watching the Kubernetes API."""

    def __init__(
        self,
        api_client: client.ApiClient,
        *,
        cluster_id: ClusterId | None = None,
        options: WatchOptions | None = None,
        clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], object] | None = None,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        """Prepare the loops; nothing is sent until ``start``.

        ``clock`` (timezone-aware), ``sleep(seconds)`` (the wait between retries; by
        default a wait on the stop event) and ``uniform`` (the backoff's jitter) are
        injectable for tests. The caller keeps ownership of ``api_client``.
        """
        self._options = options or WatchOptions()
        self._configured_id = cluster_id
        self._clock = clock
        self._created_at = clock()
        self._cache = ClusterCache()
        self._counters = CollectorCounters()
        self._stop = threading.Event()
        core = client.CoreV1Api(api_client)
        self._loops = tuple(
            resource_loop(
                kind,
                core=core,
                cache=self._cache,
                counters=self._counters,
                options=self._options,
                stop=self._stop,
                clock=clock,
                sleep=sleep,
                uniform=uniform,
            )
            for kind in WATCHED_KINDS
        )
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> KubernetesSource:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """``stop``; an exception goes on unchanged."""
        self.stop()

    def start(self) -> None:
        """Start one thread per resource (once; a stopped source cannot start again)."""
        if self._threads:
            return
        for loop in self._loops:
            thread = threading.Thread(
                target=loop.run,
                name=f"license-service-watch-{loop.target.resource}",
                daemon=True,
            )
            self._threads.append(thread)
            thread.start()

    def stop(self, *, timeout: float = DEFAULT_STOP_TIMEOUT_SECONDS) -> None:
        """Stop the loops: cut their open requests and wait up to ``timeout`` seconds."""
        self._stop.set()
        for loop in self._loops:
            loop.interrupt()
        for thread in self._threads:
            thread.join(timeout=timeout)

    @property
    def running(self) -> bool:
        """Whether any loop thread is still alive."""
        return any(thread.is_alive() for thread in self._threads)

    @property
    def counters(self) -> CollectorCounters:
        """List/watch/event/error/re-list counts; read ``counters.snapshot()`` at scrape time."""
        return self._counters

    @property
    def cluster_id(self) -> ClusterId:
        """The configured id, else the uid of ``kube-system`` (``"unknown"`` until seen)."""
        if self._configured_id is not None:
            return self._configured_id
        uid = self._cache.status().kube_system_uid
        return ClusterId(uid) if uid else UNKNOWN_CLUSTER_ID

    def object_counts(self) -> Mapping[str, int]:
        """How many pods, nodes and namespaces are held now (for metrics)."""
        return {kind.name: self._cache.count(kind.name) for kind in WATCHED_KINDS}

    def current(self) -> ClusterState:
        """The state the loops have reached; cheap, never touches the network."""
        now = self._clock()
        status = self._cache.status()
        view = self._cache.view()
        cluster_id = self._configured_id or (
            ClusterId(status.kube_system_uid) if status.kube_system_uid else None
        )
        last_error = status.last_error
        if status.listed and cluster_id is None and last_error is None:
            last_error = (
                f"the namespace {CLUSTER_ID_NAMESPACE} was not found, so the cluster id "
                "is unknown; configure the cluster id explicitly"
            )
        grace = timedelta(seconds=self._options.reconnect_grace_seconds)
        failing_too_long = status.trouble_since is not None and now - status.trouble_since >= grace
        return ClusterState(
            view=view,
            synced=status.listed and cluster_id is not None and not failing_too_long,
            observed_at=status.observed_at or self._created_at,
            cluster_id=cluster_id or UNKNOWN_CLUSTER_ID,
            source="kubernetes",
            last_error=last_error,
        )
