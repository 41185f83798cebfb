"""Watching whole objects: every change reaches the callback; 410s, drops and failures recover."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from license_service.cluster.kubernetes.counters import CollectorCounters
from license_service.cluster.kubernetes.object_watching import ObjectWatcher, WatchTarget
from license_service.errors import ClusterError
from tests.cluster.kubernetes.polling import eventually
from tests.cluster.kubernetes.watched_objects import (
    FAST_OPTIONS,
    Recorder,
    secret,
    secrets_target,
    uninstalled_target,
)
from tests.kubernetes_fake.server import FakeApiServer


def utc_now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def watchers() -> Iterator[list[ObjectWatcher]]:
    started: list[ObjectWatcher] = []
    yield started
    for watcher in started:
        watcher.stop()


def start_watcher(
    target: WatchTarget, recorder: object, watchers: list[ObjectWatcher]
) -> tuple[ObjectWatcher, CollectorCounters]:
    counters = CollectorCounters()
    watcher = ObjectWatcher(
        target,
        on_change=recorder,  # type: ignore[arg-type]
        counters=counters,
        options=FAST_OPTIONS,
        clock=utc_now,
    )
    watchers.append(watcher)
    watcher.start()
    return watcher, counters


def test_the_first_list_then_every_creation_change_and_deletion_reach_the_callback(
    fake_api: FakeApiServer, kube_client: client.ApiClient, watchers: list[ObjectWatcher]
) -> None:
    fake_api.create(secret("before"))
    recorder = Recorder()
    watcher, _ = start_watcher(secrets_target(kube_client), recorder, watchers)
    assert watcher.wait_listed(5)
    assert recorder.latest_names() == ["before"]

    fake_api.create(secret("added"))
    eventually(lambda: recorder.latest_names() == ["added", "before"], what="the creation")
    fake_api.create({**secret("added2"), "data": {"v": "Zmlyc3Q="}})
    core = client.CoreV1Api(kube_client)
    core.replace_namespaced_secret("added2", "default", secret("added2", value="c2Vjb25k"))
    eventually(
        lambda: recorder.calls[-1].get("added2", {}).get("data") == {"v": "c2Vjb25k"},
        what="the change",
    )
    fake_api.delete("secrets", "before", namespace="default")

    eventually(lambda: recorder.latest_names() == ["added", "added2"], what="the deletion")
    assert watcher.last_error is None


def test_a_410_lists_again_and_an_object_deleted_meanwhile_is_gone(
    fake_api: FakeApiServer, kube_client: client.ApiClient, watchers: list[ObjectWatcher]
) -> None:
    fake_api.create(secret("kept"))
    fake_api.create(secret("doomed"))
    recorder = Recorder()
    watcher, counters = start_watcher(secrets_target(kube_client), recorder, watchers)
    assert watcher.wait_listed(5)
    eventually(lambda: fake_api.open_watches >= 1, what="the watch")

    fake_api.stop()
    fake_api.delete("secrets", "doomed", namespace="default")
    fake_api.compact()  # the version the watch resumes from is gone: 410
    fake_api.start()

    eventually(lambda: recorder.latest_names() == ["kept"], what="the view after the re-list")
    eventually(lambda: counters.snapshot().relists.get("secrets", 0) >= 1, what="a re-list")
    eventually(lambda: watcher.last_error is None, what="the error cleared")


def test_a_dropped_watch_resumes_from_its_version_without_listing_again(
    fake_api: FakeApiServer, kube_client: client.ApiClient, watchers: list[ObjectWatcher]
) -> None:
    recorder = Recorder()
    watcher, counters = start_watcher(secrets_target(kube_client), recorder, watchers)
    assert watcher.wait_listed(5)
    eventually(lambda: fake_api.open_watches >= 1, what="the watch")

    fake_api.drop_watches()
    fake_api.create(secret("after-drop"))

    eventually(lambda: recorder.latest_names() == ["after-drop"], what="the later Secret")
    snapshot = counters.snapshot()
    assert snapshot.list_calls["secrets"] == 1
    assert snapshot.watch_calls["secrets"] >= 2
    assert snapshot.errors[("secrets", "dropped")] >= 1


def test_a_reaction_that_fails_is_retried_by_listing_again_until_it_succeeds(
    fake_api: FakeApiServer, kube_client: client.ApiClient, watchers: list[ObjectWatcher]
) -> None:
    attempts: list[int] = []

    def flaky(objects: object) -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("the reaction failed")

    watcher, counters = start_watcher(secrets_target(kube_client), flaky, watchers)

    assert watcher.wait_listed(5)
    assert len(attempts) == 3
    assert counters.snapshot().errors[("secrets", "unexpected")] == 2
    eventually(lambda: watcher.last_error is None, what="the error cleared")


def test_a_reaction_refused_for_an_expected_reason_is_one_line_without_a_traceback(
    fake_api: FakeApiServer,
    kube_client: client.ApiClient,
    watchers: list[ObjectWatcher],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="license_service.cluster.kubernetes")
    attempts: list[int] = []

    def refused(objects: object) -> None:
        attempts.append(1)
        if len(attempts) < 4:
            forbidden = ApiException(status=403, reason="Forbidden")
            raise ClusterError(
                "create Secret ns/t: HTTP 403: forbidden; grant create on secrets"
            ) from forbidden

    watcher, counters = start_watcher(secrets_target(kube_client), refused, watchers)

    assert watcher.wait_listed(5)
    assert len(attempts) == 4
    assert counters.snapshot().errors[("secrets", "http_403")] == 3
    records = [r for r in caplog.records if "create Secret ns/t" in r.getMessage()]
    assert [r.levelname for r in records] == ["WARNING", "INFO", "INFO"]
    assert all(r.exc_info is None for r in records)
    assert "grant create on secrets" in records[0].getMessage()
    assert "CallbackFailure" not in records[0].getMessage()
    assert "Traceback" not in caplog.text


def test_an_uninstalled_resource_type_counts_as_none_and_is_retried(
    fake_api: FakeApiServer, kube_client: client.ApiClient, watchers: list[ObjectWatcher]
) -> None:
    recorder = Recorder()
    watcher, counters = start_watcher(uninstalled_target(kube_client), recorder, watchers)

    assert watcher.wait_listed(5)
    assert recorder.calls[0] == {}
    eventually(lambda: counters.snapshot().list_calls["widgets"] >= 3, what="the retries")
    assert counters.snapshot().errors[("widgets", "http_404")] >= 2
    assert "HTTP 404" in (watcher.last_error or "")


def test_a_stopped_watcher_ends_its_thread_at_once(
    fake_api: FakeApiServer, kube_client: client.ApiClient, watchers: list[ObjectWatcher]
) -> None:
    watcher, _ = start_watcher(secrets_target(kube_client), Recorder(), watchers)
    assert watcher.wait_listed(5)
    eventually(lambda: fake_api.open_watches >= 1, what="the watch")

    watcher.stop(timeout=2)

    assert not watcher.running
