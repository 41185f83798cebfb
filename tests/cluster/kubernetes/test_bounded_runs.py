"""One resource's loop run in the test's own thread for a bounded number of passes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from kubernetes import client

from license_service.cluster.decoding import Projection
from license_service.cluster.kubernetes.cluster_cache import ClusterCache
from license_service.cluster.kubernetes.collector import resource_loop
from license_service.cluster.kubernetes.counters import CollectorCounters
from license_service.cluster.kubernetes.list_watch import ListWatch
from license_service.cluster.kubernetes.resource_kinds import NODES, PODS, ResourceKind
from license_service.cluster.kubernetes.watch_options import WatchOptions
from tests.cluster.kubernetes.doubles import RecordingSleep
from tests.kubernetes_fake.manifests import node_manifest, pod_manifest
from tests.kubernetes_fake.server import FakeApiServer


def watcher(
    kind: ResourceKind,
    kube_client: client.ApiClient,
    cache: ClusterCache,
    *,
    options: WatchOptions,
    sleep: RecordingSleep | None = None,
) -> ListWatch[Projection]:
    """A loop for ``kind`` writing into ``cache``."""
    return resource_loop(
        kind,
        core=client.CoreV1Api(kube_client),
        cache=cache,
        counters=CollectorCounters(),
        options=options,
        stop=threading.Event(),
        clock=lambda: datetime.now(UTC),
        sleep=sleep or RecordingSleep(),
    )


def test_a_watch_the_server_ends_is_resumed_from_the_last_version_without_listing(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.create(node_manifest("node-1"))
    cache = ClusterCache()
    loop = watcher(NODES, kube_client, cache, options=WatchOptions(watch_timeout_seconds=1))

    loop.run(iterations=2)  # list + a 1-second watch, then a second 1-second watch

    node_requests = [r for r in fake_api.requests if r.path == "/api/v1/nodes"]
    assert [r.is_watch for r in node_requests] == [False, True, True]
    first_watch, second_watch = node_requests[1:]
    assert first_watch.query["timeoutSeconds"] == "1"
    # Bookmarks (every 0.1 s) moved the version on; the second watch starts there.
    assert int(second_watch.query["resourceVersion"]) >= int(first_watch.query["resourceVersion"])
    assert int(loop.resource_version or 0) >= int(second_watch.query["resourceVersion"])
    assert [node.name for node in cache.view().nodes] == ["node-1"]


def test_a_bounded_run_against_a_failing_server_records_the_errors_and_returns(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.create(pod_manifest("web"))
    fake_api.faults.fail(None, status=500, path="^/api/v1/pods$")
    cache = ClusterCache()
    sleep = RecordingSleep()
    loop = watcher(PODS, kube_client, cache, options=WatchOptions(), sleep=sleep)

    loop.run(iterations=3)

    first, second, third = sleep.all_delays()  # jittered within the upper half
    assert 0.25 <= first <= 0.5
    assert 0.5 <= second <= 1.0
    assert 1.0 <= third <= 2.0
    status = cache.status()
    assert status.listed is False
    assert status.last_error is not None
    assert status.last_error.startswith("list pods: HTTP 500")
    assert cache.view().pods == ()
