"""Fault injection and caller authentication: errors, dropped connections, delays, a stopped
server, the request log, and bearer tokens."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from .client_setup import api_client
from .manifests import pod_manifest
from .server import FakeApiServer

# A client that reports a broken connection at once instead of retrying it.
NO_RETRIES = 0


@pytest.fixture
def clients() -> Iterator[list[client.ApiClient]]:
    """Clients made by a test, closed after it."""
    made: list[client.ApiClient] = []
    yield made
    for kube_client in made:
        kube_client.close()


@pytest.fixture
def core(fake_api: FakeApiServer, clients: list[client.ApiClient]) -> client.CoreV1Api:
    """The core API of a client that does not retry."""
    return _core(fake_api, clients)


def _core(
    fake_api: FakeApiServer,
    clients: list[client.ApiClient],
    *,
    token: str | None = "fake-token",
) -> client.CoreV1Api:
    kube_client = api_client(fake_api.url, token=token)
    kube_client.rest_client.pool_manager.connection_pool_kw["retries"] = NO_RETRIES
    clients.append(kube_client)
    return client.CoreV1Api(kube_client)


def test_the_next_requests_can_be_answered_with_500_then_served_again(
    fake_api: FakeApiServer, core: client.CoreV1Api
) -> None:
    fake_api.faults.fail(2)

    failures = []
    for _ in range(2):
        with pytest.raises(ApiException) as raised:
            core.list_namespaced_pod("default")
        failures.append((raised.value.status, json.loads(raised.value.body)["reason"]))

    assert failures == [(500, "InternalError"), (500, "InternalError")]
    assert core.list_namespaced_pod("default").items == []


def test_failures_can_be_limited_to_a_path_pattern_and_another_status(
    fake_api: FakeApiServer, core: client.CoreV1Api
) -> None:
    fake_api.faults.fail(None, status=503, path=r"/secrets$")

    core.create_namespaced_pod("default", pod_manifest("unaffected"))
    with pytest.raises(ApiException) as raised:
        core.list_namespaced_secret("default")

    assert raised.value.status == 503
    assert fake_api.get("pods", "unaffected", namespace="default") is not None


def test_a_dropped_response_breaks_the_connection_mid_body(
    fake_api: FakeApiServer, core: client.CoreV1Api
) -> None:
    fake_api.create(pod_manifest("a"))
    fake_api.faults.drop(1, path="/pods$")

    with pytest.raises(urllib3.exceptions.ProtocolError):
        core.list_namespaced_pod("default")

    assert [p.metadata.name for p in core.list_namespaced_pod("default").items] == ["a"]


def test_a_delayed_answer_exceeds_a_short_client_timeout(
    fake_api: FakeApiServer, core: client.CoreV1Api
) -> None:
    fake_api.faults.delay(0.5, count=1, path="/pods$")

    with pytest.raises(urllib3.exceptions.MaxRetryError) as raised:
        core.list_namespaced_pod("default", _request_timeout=0.1)

    assert isinstance(raised.value.reason, urllib3.exceptions.ReadTimeoutError)


def test_faults_can_be_cleared(fake_api: FakeApiServer, core: client.CoreV1Api) -> None:
    fake_api.faults.fail(None)
    fake_api.faults.clear()

    assert core.list_namespaced_pod("default").items == []


def test_a_stopped_server_refuses_connections_and_serves_again_after_start(
    fake_api: FakeApiServer, core: client.CoreV1Api
) -> None:
    fake_api.create(pod_manifest("kept"))
    port = fake_api.port
    fake_api.stop()

    with pytest.raises(urllib3.exceptions.MaxRetryError):
        core.list_namespaced_pod("default")

    fake_api.start()
    assert fake_api.port == port
    assert [p.metadata.name for p in core.list_namespaced_pod("default").items] == ["kept"]


def test_stopping_the_server_breaks_open_watches(
    fake_api: FakeApiServer, core: client.CoreV1Api
) -> None:
    fake_api.create(pod_manifest("a"))
    response = core.list_namespaced_pod(
        "default", watch=True, timeout_seconds=5, _preload_content=False
    )
    first_line = response.readline()

    fake_api.stop()

    with pytest.raises(urllib3.exceptions.ProtocolError):
        response.read()
    assert json.loads(first_line)["type"] == "ADDED"


def test_the_request_log_records_method_path_and_query(
    fake_api: FakeApiServer, core: client.CoreV1Api
) -> None:
    fake_api.clear_requests()

    core.list_namespaced_pod("default", limit=5, label_selector="app=x")
    core.create_namespaced_pod("default", pod_manifest("a"))

    assert [(r.method, r.path, r.query) for r in fake_api.requests] == [
        ("GET", "/api/v1/namespaces/default/pods", {"limit": "5", "labelSelector": "app=x"}),
        ("POST", "/api/v1/namespaces/default/pods", {}),
    ]
    assert fake_api.requests[0].bearer_token == "fake-token"


def test_any_caller_is_accepted_by_default(
    fake_api: FakeApiServer, clients: list[client.ApiClient]
) -> None:
    assert _core(fake_api, clients, token=None).list_namespaced_pod("default").items == []


def test_a_required_caller_token_turns_other_callers_away_with_401(
    fake_api: FakeApiServer, clients: list[client.ApiClient]
) -> None:
    fake_api.require_caller_token("collector-token")

    with pytest.raises(ApiException) as raised:
        _core(fake_api, clients, token="wrong").list_namespaced_pod("default")

    assert raised.value.status == 401
    assert (
        _core(fake_api, clients, token="collector-token").list_namespaced_pod("default").items == []
    )
