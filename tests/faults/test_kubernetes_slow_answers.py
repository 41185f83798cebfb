"""Slow answers from the Kubernetes API: a list page slower than the client's read timeout, a
watch that goes silent without closing.

The collector runs in this process over the client ``serve`` builds (``connection``), with
read timeouts of a fraction of a second instead of 60 s so a test can exceed them. Each
slow answer must be given up after one read timeout (seen by the collector, counted, not
retried silently inside the client), retried after a backoff, and the view must end right.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from license_service.cluster.kubernetes import KubernetesSource, WatchOptions
from license_service.cluster.kubernetes.connection import kubeconfig_api_client
from tests.cluster.kubernetes.polling import eventually
from tests.faults.kubernetes_service import PODS, PODS_PATH
from tests.kubernetes_fake.client_setup import write_kubeconfig
from tests.kubernetes_fake.fixtures import fake_api
from tests.kubernetes_fake.manifests import pod_manifest
from tests.kubernetes_fake.server import FakeApiServer

__all__ = ["fake_api"]

READ_TIMEOUT = 0.5
OPTIONS = WatchOptions(
    page_size=4,
    watch_timeout_seconds=1,
    read_timeout_seconds=READ_TIMEOUT,
    backoff_cap_seconds=1.0,
)


@pytest.fixture
def product_client(fake_api: FakeApiServer, tmp_path: Path) -> Iterator[client.ApiClient]:
    """The client ``serve --kubeconfig`` builds, pointed at the fake."""
    api_client = kubeconfig_api_client(write_kubeconfig(tmp_path / "kubeconfig", fake_api.url))
    yield api_client
    api_client.close()


@pytest.fixture
def source(product_client: client.ApiClient) -> Iterator[KubernetesSource]:
    collector = KubernetesSource(product_client, options=OPTIONS)
    yield collector
    collector.stop()


def pod_names(source: KubernetesSource) -> list[str]:
    return sorted(pod.name for pod in source.current().view.pods)


def test_a_list_slower_than_the_read_timeout_is_given_up_and_retried_until_it_answers(
    fake_api: FakeApiServer, source: KubernetesSource
) -> None:
    fake_api.load(pod_manifest(f"p-{index}") for index in range(6))  # two pages
    fake_api.faults.delay(4 * READ_TIMEOUT, count=2, path=PODS, watch=False)

    started = time.monotonic()
    source.start()
    eventually(lambda: source.current().synced, what="sync after two slow answers")
    took = time.monotonic() - started

    lists = [r for r in fake_api.requests if r.path == PODS_PATH and not r.is_watch]
    # Two attempts given up, then the two pages: no retry hidden in the client.
    assert [("continue" in r.query) for r in lists] == [False, False, False, True]
    assert lists[1].received_at - lists[0].received_at < 4 * READ_TIMEOUT
    assert source.counters.snapshot().errors[("pods", "dropped")] == 2
    assert pod_names(source) == [f"p-{index}" for index in range(6)]
    assert took < 10  # two read timeouts and two backoffs, not the slow answers' length


def test_a_watch_that_goes_silent_is_abandoned_after_its_read_timeout_and_resumed(
    fake_api: FakeApiServer, source: KubernetesSource
) -> None:
    fake_api.create(pod_manifest("before"))
    fake_api.bookmark_interval = 3600  # no bookmark to break the silence
    source.start()
    eventually(lambda: source.current().synced, what="sync")
    fake_api.faults.stall(30, path=PODS)  # the next watch of pods says nothing at all
    fake_api.clear_requests()
    fake_api.drop_watches()
    eventually(lambda: fake_api.requests, what="a new watch")
    fake_api.create(pod_manifest("during"))

    eventually(lambda: pod_names(source) == ["before", "during"], timeout=15, what="the pod")

    watches = [r for r in fake_api.requests if r.path == PODS_PATH and r.is_watch]
    stalled, resumed = watches[0], watches[1]
    # Given up after the server's timeout plus the read timeout, not the 30-second stall.
    silence = resumed.received_at - stalled.received_at
    assert OPTIONS.watch_read_timeout_seconds <= silence < 5
    assert resumed.query["resourceVersion"] == stalled.query["resourceVersion"]
    # The stall; the drop too when it cut a watch open then (watches end every second,
    # so under load it may fall between two).
    assert source.counters.snapshot().errors[("pods", "dropped")] >= 1
