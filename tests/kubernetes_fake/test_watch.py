"""Watches through the real client's ``kubernetes.watch.Watch``: events after a version,
bookmarks, timeouts, 410 Gone at the start and mid-stream, and dropped connections
("API concepts": efficient detection of changes, watch bookmarks).

Changes during a watch are made between two steps of the event generator, so every test
is deterministic without sleeping.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import urllib3
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException
from kubernetes.watch.watch import iter_resp_lines

from .manifests import ibm_licensing_manifest, namespace_manifest, pod_manifest
from .server import FakeApiServer

Event = dict[str, Any]


def _summary(event: Event) -> tuple[str, str]:
    return event["type"], event["raw_object"]["metadata"].get("name", "")


def _raw_lines(core: client.CoreV1Api, **query: Any) -> Iterator[Event]:
    response = core.list_namespaced_pod("default", watch=True, _preload_content=False, **query)
    assert response.status == 200
    try:
        for line in iter_resp_lines(response):
            yield json.loads(line)
    finally:
        response.close()


def _consume(events: Iterator[Event], *, after_each: Callable[[], object]) -> None:
    for _ in events:
        after_each()


def test_a_watch_from_a_list_version_delivers_every_later_change_in_order(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    core = client.CoreV1Api(kube_client)
    fake_api.create(pod_manifest("before"))
    listed = core.list_namespaced_pod("default").metadata.resource_version
    core.create_namespaced_pod("default", pod_manifest("web"))
    core.patch_namespaced_pod("web", "default", {"metadata": {"labels": {"v": "2"}}})
    core.delete_namespaced_pod("web", "default")
    watcher = watch.Watch()

    events = []
    for event in watcher.stream(
        core.list_namespaced_pod, "default", resource_version=listed, timeout_seconds=5
    ):
        events.append(event)
        if len(events) == 3:
            watcher.stop()

    assert [_summary(e) for e in events] == [
        ("ADDED", "web"),
        ("MODIFIED", "web"),
        ("DELETED", "web"),
    ]
    versions = [int(e["object"].metadata.resource_version) for e in events]
    assert versions == sorted(versions)
    assert versions[0] > int(listed)
    assert events[1]["object"].metadata.labels == {"v": "2"}


def test_a_watch_without_a_version_starts_with_the_current_objects_as_added(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.load([pod_manifest("a"), pod_manifest("b")])
    core = client.CoreV1Api(kube_client)
    watcher = watch.Watch()

    events = []
    for event in watcher.stream(core.list_namespaced_pod, "default", timeout_seconds=5):
        events.append(_summary(event))
        if len(events) == 2:
            watcher.stop()

    assert events == [("ADDED", "a"), ("ADDED", "b")]


def test_changes_made_while_watching_arrive_on_the_open_stream(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.create(pod_manifest("first"))
    core = client.CoreV1Api(kube_client)
    watcher = watch.Watch()

    events = []
    for event in watcher.stream(core.list_namespaced_pod, "default", timeout_seconds=5):
        events.append(_summary(event))
        if len(events) == 1:
            core.create_namespaced_pod("default", pod_manifest("second"))
        else:
            watcher.stop()

    assert events == [("ADDED", "first"), ("ADDED", "second")]


def test_a_watch_of_one_namespace_sees_nothing_of_the_others(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.create(namespace_manifest("other"))
    start = fake_api.resource_version
    fake_api.create(pod_manifest("elsewhere", namespace="other"))
    fake_api.create(pod_manifest("here"))
    watcher = watch.Watch()

    first = next(
        iter(
            watcher.stream(
                client.CoreV1Api(kube_client).list_namespaced_pod,
                "default",
                resource_version=str(start),
                timeout_seconds=5,
            )
        )
    )
    watcher.stop()

    assert _summary(first) == ("ADDED", "here")


def test_objects_entering_and_leaving_a_label_selection_arrive_as_added_and_deleted(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    core = client.CoreV1Api(kube_client)
    start = fake_api.resource_version
    fake_api.create(pod_manifest("web", labels={"app": "other"}))
    core.patch_namespaced_pod("web", "default", {"metadata": {"labels": {"app": "licensing"}}})
    core.patch_namespaced_pod("web", "default", {"metadata": {"labels": {"app": "other"}}})
    watcher = watch.Watch()

    events = []
    for event in watcher.stream(
        core.list_namespaced_pod,
        "default",
        label_selector="app=licensing",
        resource_version=str(start),
        timeout_seconds=5,
    ):
        events.append(event)
        if len(events) == 2:
            watcher.stop()

    assert [_summary(e) for e in events] == [("ADDED", "web"), ("DELETED", "web")]
    assert events[1]["object"].metadata.labels == {"app": "licensing"}
    assert int(events[1]["object"].metadata.resource_version) == fake_api.resource_version


def test_bookmarks_carry_only_kind_api_version_and_the_resource_version_seen(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.create(pod_manifest("web"))
    fake_api.create(namespace_manifest("unrelated"))
    core = client.CoreV1Api(kube_client)
    watcher = watch.Watch()

    events = []
    for event in watcher.stream(
        core.list_namespaced_pod, "default", allow_watch_bookmarks=True, timeout_seconds=5
    ):
        events.append(event)
        if event["type"] == "BOOKMARK":
            watcher.stop()

    assert _summary(events[0]) == ("ADDED", "web")
    assert events[-1]["raw_object"] == {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": str(fake_api.resource_version)},
    }
    assert watcher.resource_version == str(fake_api.resource_version)


def test_a_watch_resumed_from_a_bookmark_misses_no_change(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    core = client.CoreV1Api(kube_client)
    watcher = watch.Watch()
    for event in watcher.stream(
        core.list_namespaced_pod, "default", allow_watch_bookmarks=True, timeout_seconds=5
    ):
        if event["type"] == "BOOKMARK":
            watcher.stop()
    bookmark = watcher.resource_version
    fake_api.create(pod_manifest("after-bookmark"))

    resumed = watch.Watch()
    first = next(
        iter(
            resumed.stream(
                core.list_namespaced_pod,
                "default",
                resource_version=bookmark,
                timeout_seconds=5,
            )
        )
    )
    resumed.stop()

    assert _summary(first) == ("ADDED", "after-bookmark")


def test_timeout_seconds_ends_a_quiet_stream_cleanly_and_without_bookmarks_unless_allowed(
    kube_client: client.ApiClient,
) -> None:
    core = client.CoreV1Api(kube_client)
    started = time.monotonic()

    events = list(
        watch.Watch().stream(
            core.list_namespaced_pod, "default", resource_version="1", timeout_seconds=1
        )
    )

    elapsed = time.monotonic() - started
    assert events == []
    assert 1.0 <= elapsed < 3.0


def test_a_watch_from_a_compacted_version_answers_http_410_gone(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    old = fake_api.create(pod_manifest("a"))["metadata"]["resourceVersion"]
    fake_api.create(pod_manifest("b"))
    fake_api.compact()

    with pytest.raises(ApiException) as raised:
        list(
            watch.Watch().stream(
                client.CoreV1Api(kube_client).list_namespaced_pod,
                "default",
                resource_version=old,
                timeout_seconds=5,
            )
        )

    assert raised.value.status == 410
    assert json.loads(raised.value.body)["reason"] == "Expired"


def test_a_watch_from_a_compacted_version_can_answer_with_an_error_event_instead() -> None:
    with FakeApiServer(expired_watch_start="event") as fake_api:
        old = fake_api.create(pod_manifest("a"))["metadata"]["resourceVersion"]
        fake_api.create(pod_manifest("b"))
        fake_api.compact()
        with client.ApiClient(client.Configuration(host=fake_api.url)) as kube_client:
            events = list(_raw_lines(client.CoreV1Api(kube_client), resource_version=old))

    assert [e["type"] for e in events] == ["ERROR"]
    assert events[0]["object"]["kind"] == "Status"
    assert (events[0]["object"]["code"], events[0]["object"]["reason"]) == (410, "Expired")


def test_compaction_during_a_watch_ends_it_with_a_410_error_event(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.create(pod_manifest("a"))

    events = []
    for event in _raw_lines(client.CoreV1Api(kube_client), timeout_seconds=5):
        events.append(event)
        if event["type"] == "ADDED":
            fake_api.compact()

    assert [e["type"] for e in events] == ["ADDED", "ERROR"]
    assert events[1]["object"]["code"] == 410
    assert events[1]["object"]["reason"] == "Expired"


def test_the_client_watch_raises_410_when_compaction_expires_its_stream(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.create(pod_manifest("a"))
    core = client.CoreV1Api(kube_client)

    stream = watch.Watch().stream(core.list_namespaced_pod, "default", timeout_seconds=5)

    with pytest.raises(ApiException) as raised:
        _consume(stream, after_each=fake_api.compact)

    assert raised.value.status == 410


def test_compaction_that_spares_watches_keeps_an_up_to_date_stream_going(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.create(pod_manifest("a"))
    core = client.CoreV1Api(kube_client)
    watcher = watch.Watch()

    events = []
    for event in watcher.stream(core.list_namespaced_pod, "default", timeout_seconds=5):
        events.append(_summary(event))
        if len(events) == 1:
            fake_api.compact(expire_watches=False)
            fake_api.create(pod_manifest("b"))
        else:
            watcher.stop()

    assert events == [("ADDED", "a"), ("ADDED", "b")]


def test_a_dropped_watch_breaks_the_client_connection(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.create(pod_manifest("a"))
    core = client.CoreV1Api(kube_client)
    dropped: list[int] = []
    stream = watch.Watch().stream(core.list_namespaced_pod, "default", timeout_seconds=5)

    with pytest.raises(urllib3.exceptions.ProtocolError):
        _consume(stream, after_each=lambda: dropped.append(fake_api.drop_watches()))

    assert dropped == [1]
    # The server's thread forgets the watch just after cutting it.
    deadline = time.monotonic() + 5
    while fake_api.open_watches and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake_api.open_watches == 0


def test_a_cluster_scoped_custom_resource_can_be_watched(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    custom = client.CustomObjectsApi(kube_client)
    start = fake_api.resource_version
    fake_api.create(ibm_licensing_manifest())
    custom.patch_cluster_custom_object(
        "operator.ibm.com",
        "v1alpha1",
        "ibmlicensings",
        "instance",
        {"spec": {"features": {"auth": {"urlBasedEnabled": False}}}},
    )
    watcher = watch.Watch()

    events = []
    for event in watcher.stream(
        custom.list_cluster_custom_object,
        "operator.ibm.com",
        "v1alpha1",
        "ibmlicensings",
        resource_version=str(start),
        timeout_seconds=5,
    ):
        events.append(event)
        if len(events) == 2:
            watcher.stop()

    assert [e["type"] for e in events] == ["ADDED", "MODIFIED"]
    assert events[1]["raw_object"]["kind"] == "IBMLicensing"
    assert events[1]["raw_object"]["spec"]["features"]["auth"] == {"urlBasedEnabled": False}


def test_a_watch_list_sends_the_current_objects_then_an_initial_events_end_bookmark(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.create(pod_manifest("a"))

    events = []
    for event in _raw_lines(
        client.CoreV1Api(kube_client),
        send_initial_events=True,
        resource_version_match="NotOlderThan",
        allow_watch_bookmarks=True,
        timeout_seconds=5,
    ):
        events.append(event)
        if event["type"] == "BOOKMARK":
            break

    assert [e["type"] for e in events] == ["ADDED", "BOOKMARK"]
    assert events[1]["object"]["metadata"] == {
        "resourceVersion": str(fake_api.resource_version),
        "annotations": {"k8s.io/initial-events-end": "true"},
    }
