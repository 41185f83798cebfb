"""500s from the Kubernetes API, on the list and on the watch, under a running service.

A real ``license-service serve --kubeconfig`` follows the fake API server while the list
of pods (from the start), then their watch, answer 500 for a few seconds, and pods start
and stop meanwhile.
Judged from outside: retries back off (no crash loop, the intervals grow), each streak is
logged once as a warning (the retries below it), ``/health`` names the error while it
lasts and nothing once it is over, the service never stops serving, and afterwards the
usage and the day's peak equal what really ran (nothing lost, nothing counted twice).

Two loops run in this process for the logging of a streak that starts with a 410 (history
compacted) followed by a failing re-list: one warning per streak. The ``IBMLicensing``
watch and the collector's loop both do.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from kubernetes import client

from license_service.cluster.kubernetes import KubernetesSource, WatchOptions
from license_service.cluster.kubernetes.counters import CollectorCounters
from license_service.secrets.licensing_resource import LicensingResourceWatch
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
from tests.kubernetes_fake.request_log import RequestRecord
from tests.kubernetes_fake.server import FakeApiServer

__all__ = ["fake_api", "fault_cluster", "kube_client"]

WITHIN = 15.0


def pod_requests(cluster: FaultCluster, *, watch: bool) -> list[RequestRecord]:
    """The collector's requests for pods (list or watch) since the log was cleared."""
    return [r for r in cluster.api.requests if r.path == PODS_PATH and r.is_watch == watch]


def intervals(requests: list[RequestRecord]) -> list[float]:
    """Seconds between consecutive requests."""
    times = [request.received_at for request in requests]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def usage_becomes(service: Service, expected: float, what: str) -> None:
    wait_for(lambda: service.usage_now() == expected, within=WITHIN, what=what)


def assert_backed_off(attempts: list[RequestRecord], what: str) -> None:
    """Several attempts, never faster than the backoff allows: neither a crash loop nor a stop.

    The n-th delay in a row is drawn from [0.25 * 2**(n-1), 0.5 * 2**(n-1)] seconds (until
    the 30-second cap), so n attempts span at least 0.25 * (2**(n-1) - 1) seconds; a busy
    machine only makes them slower. The last wait, the third or a later one, is over 1 s.
    """
    gaps = intervals(attempts)
    span = attempts[-1].received_at - attempts[0].received_at
    most = 1 + math.log2(1 + span / 0.25)
    assert 3 <= len(attempts) <= most + 1, f"{what}: {len(attempts)} attempts, intervals {gaps}"
    assert gaps[-1] > 0.9, f"{what}: intervals {gaps} do not grow"


def missed_samples(service: Service) -> int:
    return len(service.store().missed)


def test_500s_on_the_list_then_the_watch_are_retried_with_backoff_and_nothing_counted_twice(
    fault_cluster: FaultCluster,
) -> None:
    api = fault_cluster.api
    # The list of pods answers 500 from the start: the view is not synchronised.
    api.faults.fail(None, status=500, path=PODS, watch=False)
    service = fault_cluster.start()
    api.create(licensed_pod("qm-a", cpu="4"))
    api.create(licensed_pod("qm-b", cpu="1"))
    wait_for(lambda: missed_samples(service) >= 1, within=WITHIN, what="a gap recorded")
    # Long enough for the third wait of the backoff (over 1 s) to be seen.
    wait_for(
        lambda: len(pod_requests(fault_cluster, watch=False)) >= 4,
        within=WITHIN,
        what="four attempts to list",
    )
    during_list_streak = service.health()
    stored_during_list_streak = service.store()
    api.faults.clear()
    usage_becomes(service, 5, "the first pods measured")
    list_attempts = pod_requests(fault_cluster, watch=False)
    first_sample = service.store().taken[0]

    # The watch of pods answers 500; meanwhile qm-a stops and qm-c starts.
    api.clear_requests()
    api.faults.fail(None, status=500, path=PODS, watch=True)
    api.drop_watches()
    api.delete("pods", "qm-a", namespace="mq")
    api.create(licensed_pod("qm-c", cpu="1"))
    wait_for(
        lambda: len(pod_requests(fault_cluster, watch=True)) >= 2, within=WITHIN, what="retries"
    )
    during_watch_streak = service.health()
    usage_during = service.usage_now()
    api.faults.clear()
    usage_becomes(service, 2, "the changes made during the 500s")
    watch_attempts = pod_requests(fault_cluster, watch=True)
    lists_meanwhile = pod_requests(fault_cluster, watch=False)

    assert service.alive()
    assert_backed_off(list_attempts, "list at start")
    assert during_list_streak["status"] == "DEGRADED"
    assert during_list_streak["collector"]["synced"] is False
    assert "has not synchronised" in during_list_streak["warnings"][0]
    assert "list pods: HTTP 500" in during_list_streak["warnings"][0]
    assert stored_during_list_streak.taken == []
    for _, reason in stored_during_list_streak.missed:
        assert "not synchronised" in reason
        assert "list pods: HTTP 500" in reason

    assert_backed_off(watch_attempts, "watch")
    assert lists_meanwhile == []  # a 500 is no reason to list again...
    resumed_from = {int(attempt.query["resourceVersion"]) for attempt in watch_attempts}
    assert len(resumed_from) == 1  # ...every retry resumes where the watch was
    assert usage_during == 5  # the view of before the streak, until it is 15 minutes old
    assert "watch pods: HTTP 500" in (during_watch_streak["collector"]["lastError"] or "")

    after = wait_for(
        lambda: (health := service.health())["collector"]["lastError"] is None and health,
        within=WITHIN,
        what="the error cleared from /health",
    )
    assert after["status"] == "OK"
    assert after["collector"]["synced"] is True
    assert service.day_peak(PRODUCT_ID) == 5  # 4 + 1 at the start; never more
    stored = service.store()
    assert all(instant < first_sample for instant, _ in stored.missed)  # no gap once synced
    assert service.metrics().get("license_service_kubernetes_relists_total{resource=pods}", 0) == 0

    # One warning per streak; the retries are quieter lines.
    warnings = service.log_lines(r"list_watch: (watch|list) pods: ", level="WARNING")
    assert [line.split(": ", 2)[1] for line in warnings] == ["list pods", "watch pods"]
    assert "HTTP 500" in warnings[0]
    assert "the connection broke" in warnings[1]  # the drop that began the watch streak
    assert len(service.log_lines(r"list pods: HTTP 500.*retrying", level="INFO")) >= 2
    assert len(service.log_lines(r"watch pods: HTTP 500.*retrying", level="INFO")) >= 1


def compacted_until(fake_api: FakeApiServer, failures: Callable[[], int]) -> Callable[..., bool]:
    """A poll condition (``before``, ``reach``): compacts the fake's history while
    ``failures()`` is still ``before`` (the re-lists have not started failing), true once
    it reaches ``reach``.

    Compacted again until a re-list fails: a watch counted open may not follow the
    store yet, and one from the current version survives a compaction.
    """

    def condition(*, before: int, reach: int) -> bool:
        count = failures()
        if count == before:
            fake_api.compact()
        return count >= reach

    return condition


def test_a_failing_re_list_after_a_410_is_logged_once_as_a_warning(
    fake_api: FakeApiServer, kube_client: client.ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="license_service.cluster.kubernetes")
    source = KubernetesSource(kube_client, options=WatchOptions(backoff_cap_seconds=0.5))
    source.start()
    try:
        poll(lambda: source.current().synced, what="sync")
        poll(lambda: fake_api.open_watches == 3, what="the watches open")
        fake_api.faults.fail(None, status=500, path=PODS, watch=False)
        # The watch ends with 410; the re-list answers 500.
        failed = compacted_until(
            fake_api, lambda: source.counters.snapshot().errors.get(("pods", "http_500"), 0)
        )
        poll(lambda: failed(before=0, reach=3), what="three failed re-lists")
    finally:
        source.stop()

    about_the_list = [r for r in caplog.records if "list pods: HTTP 500" in r.getMessage()]
    assert len(about_the_list) >= 3
    assert [r.levelname for r in about_the_list].count("WARNING") == 1


def test_a_failing_re_list_of_the_ibmlicensing_resources_after_a_410_is_logged_once(
    fake_api: FakeApiServer, kube_client: client.ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="license_service.cluster.kubernetes")
    counters = CollectorCounters()
    watch = LicensingResourceWatch(
        kube_client,
        on_document=lambda document: None,
        counters=counters,
        options=WatchOptions(backoff_cap_seconds=0.5),
        clock=lambda: datetime.now(UTC),
    )
    watch.start()
    try:
        poll(lambda: watch.wait_listed(0), what="the first list")
        poll(lambda: fake_api.open_watches == 1, what="the watch open")
        fake_api.faults.fail(None, status=500, path="ibmlicensings$", watch=False)
        # The watch ends with 410; the re-list answers 500.
        failed = compacted_until(
            fake_api, lambda: counters.snapshot().errors.get(("ibmlicensings", "http_500"), 0)
        )
        poll(lambda: failed(before=0, reach=3), what="three failed re-lists")
        fake_api.faults.clear()
        poll(lambda: watch.last_error is None, what="the recovery")
        poll(lambda: fake_api.open_watches == 1, what="the watch open again")
        fake_api.faults.fail(2, status=500, path="ibmlicensings$", watch=False)
        # A second streak after the recovery.
        poll(lambda: failed(before=3, reach=5), what="two more failed re-lists")
    finally:
        watch.stop()

    about_the_list = [r for r in caplog.records if "HTTP 500" in r.getMessage()]
    assert len(about_the_list) >= 5
    assert [r.levelname for r in about_the_list].count("WARNING") == 2  # one per streak
