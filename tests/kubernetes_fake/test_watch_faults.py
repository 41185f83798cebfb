"""Faults of watch streams, and faults aimed at lists or watches only, seen by the real client.

A stream cut mid-event, a stream ended by an ERROR event, a silent stream only a read
timeout can end; and a 500 for the list of pods that leaves their watch alone (and back).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from .client_setup import api_client
from .manifests import pod_manifest
from .process import FakeApiProcess
from .server import FakeApiServer

PODS = "/api/v1/namespaces/default/pods$"


@pytest.fixture
def core(fake_api: FakeApiServer) -> Iterator[client.CoreV1Api]:
    """The core API of a client that reports a broken connection instead of retrying."""
    with api_client(fake_api.url) as kube_client:
        kube_client.rest_client.pool_manager.connection_pool_kw["retries"] = 0
        yield client.CoreV1Api(kube_client)


def _open_watch(core: client.CoreV1Api, **query: Any) -> urllib3.HTTPResponse:
    version = core.list_namespaced_pod("default").metadata.resource_version
    response: urllib3.HTTPResponse = core.list_namespaced_pod(
        "default",
        watch=True,
        resource_version=version,
        timeout_seconds=5,
        _preload_content=False,
        **query,
    )
    return response


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold within 5 s"
        time.sleep(0.01)


def _read_all(response: urllib3.HTTPResponse) -> tuple[bytes, BaseException | None]:
    """Everything the stream delivered, and the error that ended it (None: a clean end)."""
    received = bytearray()
    try:
        for chunk in response.stream(amt=None, decode_content=True):
            received += chunk
    except (urllib3.exceptions.HTTPError, OSError) as error:
        return bytes(received), error
    finally:
        response.release_conn()
    return bytes(received), None


def test_a_watch_cut_mid_event_delivers_whole_events_then_half_a_line_then_breaks(
    fake_api: FakeApiServer, core: client.CoreV1Api
) -> None:
    fake_api.faults.cut_event(path=PODS, after_events=1)
    response = _open_watch(core)
    fake_api.create(pod_manifest("whole"))
    fake_api.create(pod_manifest("halved"))

    received, error = _read_all(response)

    whole, half = received.split(b"\n")
    assert json.loads(whole)["object"]["metadata"]["name"] == "whole"
    assert half.startswith(b'{"type":"ADDED"')
    with pytest.raises(json.JSONDecodeError):
        json.loads(half)
    assert isinstance(error, urllib3.exceptions.ProtocolError)


def test_a_cut_can_end_the_stream_cleanly_after_half_a_line(
    fake_api: FakeApiServer, core: client.CoreV1Api
) -> None:
    fake_api.faults.cut_event(path=PODS, clean_end=True)
    response = _open_watch(core)
    fake_api.create(pod_manifest("halved"))

    received, error = _read_all(response)

    assert error is None
    assert received.startswith(b'{"type":"ADDED"')
    assert b"\n" not in received


def test_bookmarks_pass_a_cut_that_waits_for_an_event(
    fake_api: FakeApiServer, core: client.CoreV1Api
) -> None:
    fake_api.faults.cut_event(path=PODS)
    response = _open_watch(core, allow_watch_bookmarks=True)
    creation = threading.Timer(0.35, lambda: fake_api.create(pod_manifest("cut")))
    creation.start()  # after about three bookmarks (one every 0.1 s)

    received, error = _read_all(response)

    creation.join()
    *whole, half = received.split(b"\n")
    assert len(whole) >= 2
    assert {json.loads(line)["type"] for line in whole} == {"BOOKMARK"}
    assert half.startswith(b'{"type":"ADDED"')
    assert isinstance(error, urllib3.exceptions.ProtocolError)


def test_an_error_event_ends_the_watch_cleanly_with_a_status(
    fake_api: FakeApiServer, core: client.CoreV1Api
) -> None:
    fake_api.faults.error_event(path=PODS, after_events=1, status=500)
    response = _open_watch(core)
    fake_api.create(pod_manifest("seen"))

    received, error = _read_all(response)

    first, last = (json.loads(line) for line in received.splitlines())
    assert error is None
    assert first["object"]["metadata"]["name"] == "seen"
    assert last["type"] == "ERROR"
    assert last["object"]["kind"] == "Status"
    assert (last["object"]["code"], last["object"]["reason"]) == (500, "InternalError")


def test_an_error_event_can_come_first_and_applies_to_count_watches_only(
    fake_api: FakeApiServer, core: client.CoreV1Api
) -> None:
    fake_api.faults.error_event(path=PODS, status=503)
    first, _ = _read_all(_open_watch(core))
    fake_api.create(pod_manifest("later"))  # the next watch is served normally
    second = _open_watch(core)
    fake_api.create(pod_manifest("seen"))

    assert json.loads(first)["object"]["code"] == 503
    assert json.loads(second.readline())["object"]["metadata"]["name"] == "seen"
    second.close()


def test_open_watches_of_one_resource_can_be_ended_with_an_error_event(
    fake_api: FakeApiServer, core: client.CoreV1Api
) -> None:
    pods = _open_watch(core)
    secrets = core.list_namespaced_secret(
        "default", watch=True, timeout_seconds=1, _preload_content=False
    )
    _until(lambda: fake_api.open_watches == 2)

    ended = fake_api.error_watches(503, resource="pods")
    received, error = _read_all(pods)
    other, _ = _read_all(secrets)

    assert ended == 1
    assert error is None
    assert json.loads(received)["type"] == "ERROR"
    assert json.loads(received)["object"]["reason"] == "ServiceUnavailable"
    assert other == b""  # the secrets watch just timed out


def test_open_watches_can_be_cut_in_the_middle_of_their_next_event(
    fake_api: FakeApiServer, core: client.CoreV1Api
) -> None:
    response = _open_watch(core, allow_watch_bookmarks=True)
    _until(lambda: fake_api.open_watches == 1)

    cut = fake_api.cut_watches_mid_event(resource="pods")
    fake_api.create(pod_manifest("halved"))
    received, error = _read_all(response)

    assert cut == 1
    *bookmarks, half = received.split(b"\n")
    assert {json.loads(line)["type"] for line in bookmarks} <= {"BOOKMARK"}
    assert half.startswith(b'{"type":"ADDED"')
    assert isinstance(error, urllib3.exceptions.ProtocolError)


def test_a_stalled_watch_says_nothing_until_the_client_read_timeout(
    fake_api: FakeApiServer, core: client.CoreV1Api
) -> None:
    fake_api.faults.stall(30, path=PODS)
    response = _open_watch(core, allow_watch_bookmarks=True, _request_timeout=(2, 0.5))
    fake_api.create(pod_manifest("unsent"))

    received, error = _read_all(response)

    assert received == b""
    assert isinstance(error, urllib3.exceptions.ReadTimeoutError)


def test_a_stalled_watch_ends_when_the_watches_are_dropped(
    fake_api: FakeApiServer, core: client.CoreV1Api
) -> None:
    fake_api.faults.stall(30, path=PODS)
    response = _open_watch(core)
    timer = threading.Timer(0.3, fake_api.drop_watches)
    timer.start()

    received, error = _read_all(response)

    timer.join()
    assert received == b""
    assert isinstance(error, urllib3.exceptions.ProtocolError)


def test_a_failure_can_aim_at_the_list_and_spare_the_watch_of_the_same_path(
    fake_api: FakeApiServer, core: client.CoreV1Api
) -> None:
    version = core.list_namespaced_pod("default").metadata.resource_version
    fake_api.faults.fail(None, status=500, path=PODS, watch=False)

    with pytest.raises(ApiException) as listed:
        core.list_namespaced_pod("default")
    watch = core.list_namespaced_pod(
        "default", watch=True, resource_version=version, timeout_seconds=5, _preload_content=False
    )
    fake_api.create(pod_manifest("a"))

    assert listed.value.status == 500
    assert json.loads(watch.readline())["type"] == "ADDED"
    watch.close()


def test_a_failure_can_aim_at_the_watch_and_spare_the_list(
    fake_api: FakeApiServer, core: client.CoreV1Api
) -> None:
    fake_api.faults.fail(None, status=503, path=PODS, watch=True)

    with pytest.raises(ApiException) as watched:
        _open_watch(core)

    assert watched.value.status == 503
    assert core.list_namespaced_pod("default").items == []


def test_requests_are_logged_with_their_arrival_time(
    fake_api: FakeApiServer, core: client.CoreV1Api
) -> None:
    fake_api.clear_requests()
    core.list_namespaced_pod("default")
    core.list_namespaced_pod("default")

    first, second = fake_api.requests

    assert 0 < first.received_at <= second.received_at


def test_watch_faults_are_arranged_over_http_for_a_fake_process() -> None:
    with FakeApiProcess() as fake, api_client(fake.url) as kube_client:
        kube_client.rest_client.pool_manager.connection_pool_kw["retries"] = 0
        core = client.CoreV1Api(kube_client)
        # Arranged in the order they fire: the first matching fault decides.
        fake.control.fail(1, status=503, path=PODS, watch=True)
        fake.control.error_event(path=PODS, status=500)
        fake.control.cut_event(path=PODS)
        with pytest.raises(ApiException) as failed:
            _open_watch(core)  # the list passes, the watch fails
        errored, _ = _read_all(_open_watch(core))
        cut = _open_watch(core)
        core.create_namespaced_pod("default", pod_manifest("a"))
        received, error = _read_all(cut)
        logged = fake.control.requests()

    assert failed.value.status == 503
    assert json.loads(errored)["type"] == "ERROR"
    assert b'"name":"a"' in received
    assert not received.endswith(b"\n")
    assert isinstance(error, urllib3.exceptions.ProtocolError)
    assert all(isinstance(record["received_at"], float) for record in logged)
