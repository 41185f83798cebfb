"""Watch streams that go wrong under a running service: ERROR events, a cut mid-event,
bookmarks to resume from, and slow answers.

A real ``license-service serve --kubeconfig`` follows the fake API server. Each fault hits
the open watch of pods while a pod stops and another starts; afterwards the usage equals
what runs (the stop was not lost, the start not counted twice), the collector resumed from
the version it had instead of listing again, ``/health`` is OK and no sample was missed.
"""

from __future__ import annotations

import time

from kubernetes import client

from license_service.cluster.kubernetes import KubernetesSource, WatchOptions
from tests.cluster.kubernetes.polling import eventually as poll
from tests.e2e.kubernetes.cluster import PRODUCT_ID
from tests.faults.kubernetes_service import (
    PODS,
    PODS_PATH,
    FaultCluster,
    Service,
    fault_cluster,
    licensed_pod,
    wait_for,
)
from tests.kubernetes_fake.fixtures import fake_api, kube_client
from tests.kubernetes_fake.manifests import namespace_manifest
from tests.kubernetes_fake.request_log import RequestRecord
from tests.kubernetes_fake.server import FakeApiServer

__all__ = ["fake_api", "fault_cluster", "kube_client"]

WITHIN = 15.0
SLOW_ANSWER_SECONDS = 1.5
"""Every pods request waits this long: slow, yet inside the client's 60-second timeout."""


def pod_requests(cluster: FaultCluster, *, watch: bool) -> list[RequestRecord]:
    """The collector's requests for pods (list or watch) since the log was cleared."""
    return [r for r in cluster.api.requests if r.path == PODS_PATH and r.is_watch == watch]


def usage_becomes(service: Service, expected: float, what: str) -> None:
    wait_for(lambda: service.usage_now() == expected, within=WITHIN, what=what)


def pods_figure(service: Service, family: str, **labels: str) -> float:
    """A ``license_service_kubernetes_<family>`` value for pods (0 when absent)."""
    label_text = ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
    key = f"license_service_kubernetes_{family}{{{label_text}}}"
    return service.metrics().get(key, 0.0)


def bookmarks(service: Service) -> float:
    return pods_figure(service, "watch_events_total", resource="pods", type="BOOKMARK")


def test_error_events_a_cut_mid_event_bookmarks_and_slow_answers_lose_and_double_nothing(
    fault_cluster: FaultCluster,
) -> None:
    api = fault_cluster.api
    service = fault_cluster.start()
    api.create(licensed_pod("qm-a", cpu="4"))
    api.create(licensed_pod("qm-b", cpu="1"))
    usage_becomes(service, 5, "the first pods measured")

    # An ERROR event (500) ends the watch of pods; qm-a stops, qm-c starts.
    api.clear_requests()
    assert api.error_watches(500, resource="pods") == 1
    api.delete("pods", "qm-a", namespace="mq")
    api.create(licensed_pod("qm-c", cpu="1"))
    usage_becomes(service, 2, "the changes after the ERROR event")
    lists_after_error = pod_requests(fault_cluster, watch=False)
    http_500s = pods_figure(service, "errors_total", resource="pods", kind="http_500")

    # The watch breaks in the middle of the line of qm-b's deletion; qm-d starts.
    api.clear_requests()
    assert api.cut_watches_mid_event(resource="pods") == 1
    api.delete("pods", "qm-b", namespace="mq")
    api.create(licensed_pod("qm-d", cpu="2"))
    usage_becomes(service, 3, "the changes after the cut")
    lists_after_cut = pod_requests(fault_cluster, watch=False)
    dropped = pods_figure(service, "errors_total", resource="pods", kind="dropped")
    decode_errors = pods_figure(service, "errors_total", resource="pods", kind="decode")

    # Bookmarks carry the version on while nothing happens to pods: a dropped watch
    # resumes from the bookmark's version, not from the last pod event's.
    unrelated = api.create(namespace_manifest("unrelated"))
    unrelated_version = int(unrelated["metadata"]["resourceVersion"])
    seen = bookmarks(service)
    wait_for(lambda: bookmarks(service) >= seen + 2, within=WITHIN, what="two more bookmarks")
    api.clear_requests()
    api.drop_watches()
    wait_for(lambda: pod_requests(fault_cluster, watch=True), within=WITHIN, what="a new watch")
    resumed_from = int(pod_requests(fault_cluster, watch=True)[0].query["resourceVersion"])

    # Slow answers (inside the client's timeout) through a re-list: qm-e starts meanwhile.
    # (A watch from the current version survives a compaction: wait for every watch.)
    # Pods, nodes, namespaces, IBMLicensing, the API and upload token Secrets, entitlements.
    wait_for(lambda: api.open_watches == 7, within=WITHIN, what="the seven watches open")
    errors_before_slow = pods_figure(service, "errors_total", resource="pods", kind="dropped")
    api.faults.delay(SLOW_ANSWER_SECONDS, path=PODS)
    api.clear_requests()
    api.compact()  # the watch ends with 410: list (slowly), then watch (slowly)
    api.create(licensed_pod("qm-e", cpu="1"))
    started = time.monotonic()
    health_answered_in = []
    while service.usage_now() != 4:
        assert time.monotonic() - started < WITHIN, "qm-e not measured through slow answers"
        before = time.monotonic()
        assert service.health()["collector"]["source"] == "kubernetes"
        health_answered_in.append(time.monotonic() - before)
        time.sleep(0.2)
    api.faults.clear()
    slow_lists = pod_requests(fault_cluster, watch=False)

    assert service.alive()
    assert lists_after_error == []  # an ERROR event other than 410: watch again, no list
    assert http_500s >= 1
    assert lists_after_cut == []
    assert dropped >= 1
    assert decode_errors == 0  # half a line never reached the decoder
    assert resumed_from >= unrelated_version
    assert len(slow_lists) == 1  # one list, however slow: no timeout, no retry
    assert pods_figure(service, "errors_total", resource="pods", kind="dropped") == (
        errors_before_slow
    )
    assert max(health_answered_in) < SLOW_ANSWER_SECONDS  # the API never waits on Kubernetes
    assert pods_figure(service, "relists_total", resource="pods") == 1  # the compaction's
    health = wait_for(
        lambda: (document := service.health())["collector"]["lastError"] is None and document,
        within=WITHIN,
        what="the errors cleared from /health",
    )
    assert health["status"] == "OK"
    assert service.day_peak(PRODUCT_ID) == 5  # 4 + 1 at the start; never more
    assert service.store().missed == []


def test_half_an_event_line_at_a_clean_end_of_stream_is_refused_and_the_event_redelivered(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.create(namespace_manifest("mq"))
    fake_api.create(licensed_pod("qm-a", cpu="1"))
    source = KubernetesSource(kube_client, options=WatchOptions(backoff_cap_seconds=0.5))
    source.start()
    try:
        poll(lambda: source.current().synced, what="sync")
        # The next watch ends well-formed, its last line half an event (a broken proxy).
        fake_api.faults.cut_event(path=PODS, clean_end=True)
        fake_api.clear_requests()
        fake_api.drop_watches()
        poll(lambda: fake_api.requests, what="the watch that will be cut")
        fake_api.create(licensed_pod("qm-b", cpu="2"))
        poll(lambda: len(source.current().view.pods) == 2, what="qm-b, whole")
        errors = source.counters.snapshot().errors
    finally:
        source.stop()

    assert sorted(pod.name for pod in source.current().view.pods) == ["qm-a", "qm-b"]
    assert errors[("pods", "decode")] == 1  # the half line, refused
    lists = [r for r in fake_api.requests if r.path == PODS_PATH and not r.is_watch]
    assert lists == []  # watched again from the last whole event, not listed again
