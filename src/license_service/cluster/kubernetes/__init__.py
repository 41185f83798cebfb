"""The Kubernetes collector: list and watch pods, nodes and namespaces into the projection.

Three threads (one per resource) list in pages, then watch from the list's
resourceVersion; every response is decoded straight from its JSON bytes into
``metering.cluster_view`` values (``cluster.decoding``), so no client model object is
ever built. ``KubernetesSource`` is the ``ClusterSource`` the sampler and ``/health`` read.

Modules, bottom up: ``watch_options`` (page size, timeouts, backoff, grace),
``backoff`` (reconnect delays), ``counters`` (list/watch/event/error counts for
metrics), ``failures`` (what went wrong, without secrets, and how a streak is
logged), ``raw_responses`` and ``watch_lines`` (bodies and watch lines as bytes),
``list_watch`` (the one list+watch loop and its sink protocol), ``resource_kinds``
(the three watched resources and their API calls), ``cluster_cache`` (the maps,
health and cached view), ``resource_sink`` (what a resource's loop does to the
cache), ``collector`` (``KubernetesSource``: loops, threads and state),
``object_watching`` (the same loop over whole objects: Secrets, ``IBMLicensing``),
``connection`` and ``api_connection`` (clients, and the parts built on one).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from license_service.cluster.kubernetes.collector import KubernetesSource
    from license_service.cluster.kubernetes.connection import (
        in_cluster_api_client,
        kubeconfig_api_client,
    )
    from license_service.cluster.kubernetes.counters import CollectorCounters, CounterSnapshot
    from license_service.cluster.kubernetes.watch_options import WatchOptions

# Names re-exported lazily: importing a light module of this package (``watch_options``,
# ``counters``) must not load the Kubernetes client, which costs a second at start.
_EXPORTS = {
    "KubernetesSource": "collector",
    "in_cluster_api_client": "connection",
    "kubeconfig_api_client": "connection",
    "CollectorCounters": "counters",
    "CounterSnapshot": "counters",
    "WatchOptions": "watch_options",
}

__all__ = [
    "CollectorCounters",
    "CounterSnapshot",
    "KubernetesSource",
    "WatchOptions",
    "in_cluster_api_client",
    "kubeconfig_api_client",
]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
