"""Through dropped watches, 410 Gone, 5xx answers and outages the view ends right.

Right means: exactly the pods the server holds, none twice, the deleted ones gone; and
a resumed watch continues from the last resourceVersion instead of listing again.
"""

from __future__ import annotations

from kubernetes import client

from license_service.cluster.kubernetes import KubernetesSource
from tests.cluster.kubernetes.conftest import StartSource
from tests.cluster.kubernetes.doubles import ManualClock, RecordingSleep
from tests.cluster.kubernetes.polling import eventually
from tests.kubernetes_fake.client_setup import api_client
from tests.kubernetes_fake.manifests import pod_manifest
from tests.kubernetes_fake.request_log import RequestRecord
from tests.kubernetes_fake.server import FakeApiServer

PODS_PATH = "/api/v1/pods"


def pod_names(source: KubernetesSource) -> list[str]:
    """The names of the pods in the current view, sorted (duplicates kept)."""
    return sorted(pod.name for pod in source.current().view.pods)


def server_pod_names(api: FakeApiServer) -> list[str]:
    """The names of the pods the server holds, sorted."""
    return sorted(obj["metadata"]["name"] for obj in api.objects("pods"))


def pod_requests(api: FakeApiServer, *, watch: bool) -> list[RequestRecord]:
    """The list (or watch) requests for pods the server received, in order."""
    return [r for r in api.requests if r.path == PODS_PATH and r.is_watch == watch]


def synced(source: KubernetesSource) -> None:
    """Wait until the source is synchronised."""
    eventually(lambda: source.current().synced, what="sync")


def test_a_dropped_watch_resumes_from_its_resource_version_without_listing_again(
    fake_api: FakeApiServer, start_source: StartSource
) -> None:
    fake_api.create(pod_manifest("before"))
    source = start_source()
    synced(source)
    eventually(lambda: pod_requests(fake_api, watch=True), what="the first watch")
    fake_api.create(pod_manifest("seen"))
    eventually(lambda: pod_names(source) == ["before", "seen"], what="the watched pod")
    version_before_drop = fake_api.resource_version

    fake_api.drop_watches()
    fake_api.create(pod_manifest("after"))

    eventually(lambda: pod_names(source) == ["after", "before", "seen"], what="the later pod")
    watches = pod_requests(fake_api, watch=True)
    assert len(pod_requests(fake_api, watch=False)) == 1
    assert len(watches) >= 2
    assert int(watches[-1].query["resourceVersion"]) >= version_before_drop
    assert watches[-1].query["allowWatchBookmarks"] == "true"
    assert source.counters.snapshot().errors[("pods", "dropped")] >= 1


def test_a_410_mid_stream_lists_again_and_counts_nothing_twice(
    fake_api: FakeApiServer, start_source: StartSource
) -> None:
    fake_api.load(pod_manifest(f"p-{index}") for index in range(6))
    source = start_source()
    synced(source)

    fake_api.create(pod_manifest("late"))
    fake_api.compact()  # every open watch gets an ERROR event with code 410

    eventually(lambda: source.counters.snapshot().relists.get("pods") == 1, what="a re-list")
    eventually(lambda: pod_names(source) == server_pod_names(fake_api), what="the final state")
    assert len(pod_names(source)) == len(set(pod_names(source))) == 7
    assert len(pod_requests(fake_api, watch=False)) == 2 * 2  # 7 pods in pages of 4, twice
    assert source.counters.snapshot().errors[("pods", "http_410")] == 1


def test_a_410_at_watch_start_after_an_outage_drops_the_pods_deleted_meanwhile(
    fake_api: FakeApiServer, start_source: StartSource
) -> None:
    fake_api.load(pod_manifest(f"p-{index}") for index in range(5))
    source = start_source()
    synced(source)

    # The watch breaks and cannot come back while pods are deleted and history compacted.
    fake_api.faults.fail(None, status=503, path=f"^{PODS_PATH}$")
    fake_api.drop_watches()
    eventually(lambda: source.counters.snapshot().errors.get(("pods", "http_503")), what="503s")
    fake_api.delete("pods", "p-0", namespace="default")
    fake_api.delete("pods", "p-1", namespace="default")
    fake_api.create(pod_manifest("p-new"))
    compacted = fake_api.compact()
    fake_api.clear_requests()
    fake_api.faults.clear()

    eventually(lambda: pod_names(source) == ["p-2", "p-3", "p-4", "p-new"], what="the relist")
    first_watch, *_ = pod_requests(fake_api, watch=True)
    first_list, *_ = pod_requests(fake_api, watch=False)
    assert int(first_watch.query["resourceVersion"]) < compacted  # answered 410
    assert "continue" not in first_list.query  # a whole new list
    assert source.counters.snapshot().relists["pods"] == 1
    recovered = eventually(
        lambda: (state := source.current()).last_error is None and state, what="all recovered"
    )
    assert recovered.synced


def test_a_410_sent_as_an_error_event_at_watch_start_also_leads_to_a_relist(
    start_source: StartSource,
) -> None:
    with (
        FakeApiServer(bookmark_interval=0.1, expired_watch_start="event") as api,
        api_client(api.url) as kube_client,
    ):
        api.load(pod_manifest(f"p-{index}") for index in range(3))
        source = start_source(kube_client)
        synced(source)
        api.faults.fail(None, status=500, path=f"^{PODS_PATH}$")
        api.drop_watches()
        eventually(lambda: source.counters.snapshot().errors.get(("pods", "http_500")))
        api.delete("pods", "p-0", namespace="default")
        api.compact()
        api.faults.clear()

        eventually(lambda: pod_names(source) == ["p-1", "p-2"], what="the relist")
        source.stop()

    assert source.counters.snapshot().relists["pods"] == 1
    assert source.counters.snapshot().errors[("pods", "http_410")] == 1


def test_500s_are_retried_with_a_growing_backoff_until_the_server_recovers(
    fake_api: FakeApiServer, start_source: StartSource, sleep: RecordingSleep
) -> None:
    fake_api.create(pod_manifest("web"))
    fake_api.faults.fail(5, status=500, path=f"^{PODS_PATH}$")

    source = start_source()

    eventually(lambda: pod_names(source) == ["web"], what="recovery")
    assert sleep.delays("pods") == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert source.counters.snapshot().errors[("pods", "http_500")] == 5
    assert len(pod_requests(fake_api, watch=False)) == 6

    # Once the watch delivers something (a bookmark), the backoff starts over.
    eventually(lambda: source.counters.snapshot().events.get(("pods", "BOOKMARK")))
    fake_api.faults.fail(2, status=500, path=f"^{PODS_PATH}$")
    fake_api.drop_watches()
    fake_api.create(pod_manifest("later"))
    eventually(lambda: pod_names(source) == ["later", "web"], what="the second recovery")
    assert sleep.delays("pods")[5:] == [0.5, 1.0, 2.0]  # dropped, 500, 500


def test_the_backoff_is_capped(
    fake_api: FakeApiServer, start_source: StartSource, sleep: RecordingSleep
) -> None:
    fake_api.faults.fail(9, status=500, path=f"^{PODS_PATH}$")

    source = start_source()

    synced(source)
    assert sleep.delays("pods") == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


def test_while_the_server_is_down_observed_at_stops_and_last_error_says_why(
    fake_api: FakeApiServer, start_source: StartSource
) -> None:
    clock = ManualClock()
    source = start_source(clock=clock)
    synced(source)
    confirmed_at = clock.advance(60)
    eventually(lambda: source.current().observed_at == confirmed_at, what="bookmarks")

    fake_api.stop()
    eventually(lambda: source.current().last_error, what="the outage noticed")
    errors_then = sum(source.counters.snapshot().errors.values())
    clock.advance(120)
    eventually(
        lambda: sum(source.counters.snapshot().errors.values()) >= errors_then + 6,
        what="more failed attempts",
    )

    during = source.current()
    assert during.observed_at == confirmed_at
    assert during.synced  # reconnecting for less than the grace period
    assert "cannot reach the API server" in (during.last_error or "")
    clock.advance(900)
    assert source.current().synced is False

    fake_api.start()
    recovered_at = clock.advance(1)
    eventually(lambda: source.current().observed_at == recovered_at, what="recovery")
    assert source.current().synced
    assert source.current().last_error is None


def test_stop_ends_the_loops_promptly_even_in_the_middle_of_a_long_watch(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.bookmark_interval = 3600  # silent watches: only an interrupt ends a read
    source = KubernetesSource(kube_client)  # default options: 5-minute watches
    source.start()
    eventually(lambda: source.current().synced, what="sync")
    eventually(lambda: fake_api.open_watches == 3, what="three open watches")

    source.stop(timeout=2)

    assert not source.running


def test_an_expired_continue_token_starts_the_list_over(
    fake_api: FakeApiServer, start_source: StartSource
) -> None:
    fake_api.load(pod_manifest(f"p-{index}") for index in range(6))
    fake_api.faults.delay(0.3, count=2, path=f"^{PODS_PATH}$")
    source = start_source()

    # While the second page is held back, a pod is added and history compacted.
    eventually(
        lambda: any("continue" in page.query for page in pod_requests(fake_api, watch=False)),
        what="the second page asked",
    )
    fake_api.create(pod_manifest("late"))
    fake_api.compact()

    eventually(lambda: source.current().synced, what="sync")
    pages = pod_requests(fake_api, watch=False)
    assert ["continue" in page.query for page in pages] == [False, True, False, True]
    assert pod_names(source) == server_pod_names(fake_api)
    assert "late" in pod_names(source)
    assert source.counters.snapshot().relists["pods"] == 1
    assert source.counters.snapshot().errors[("pods", "http_410")] == 1
