"""Leases (coordination.k8s.io/v1) for leader election: discovery, CRUD, 409 on a stale
resourceVersion, watch, through the real client and kubectl; and a client cut off."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import urllib3
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from .client_setup import api_client
from .kubectl_runner import Kubectl
from .server import FakeApiServer

# With a fraction: the client writes a datetime with isoformat(), which drops a zero one,
# and the API server refuses a MicroTime without its six digits (see the last test).
AT = datetime(2026, 1, 1, 0, 0, 0, 250_000, tzinfo=UTC)


def _lease(name: str, holder: str, *, at: datetime = AT) -> client.V1Lease:
    return client.V1Lease(
        metadata=client.V1ObjectMeta(name=name, namespace="default"),
        spec=client.V1LeaseSpec(
            holder_identity=holder,
            lease_duration_seconds=15,
            acquire_time=at,
            renew_time=at,
            lease_transitions=0,
        ),
    )


def test_a_lease_is_created_read_and_updated_with_the_real_client(
    kube_client: client.ApiClient,
) -> None:
    leases = client.CoordinationV1Api(kube_client)

    created = leases.create_namespaced_lease("default", _lease("leader", "pod-a"))
    read = leases.read_namespaced_lease("leader", "default")
    read.spec.holder_identity = "pod-b"
    replaced = leases.replace_namespaced_lease("leader", "default", read)

    assert created.spec.holder_identity == "pod-a"
    assert read.spec.lease_duration_seconds == 15
    assert replaced.spec.holder_identity == "pod-b"
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    assert leases.read_namespaced_lease("leader", "default").spec.renew_time == AT


def test_an_update_with_a_stale_resource_version_is_refused_with_409(
    kube_client: client.ApiClient,
) -> None:
    leases = client.CoordinationV1Api(kube_client)
    leases.create_namespaced_lease("default", _lease("leader", "pod-a"))
    seen_by_a = leases.read_namespaced_lease("leader", "default")
    seen_by_b = leases.read_namespaced_lease("leader", "default")
    seen_by_a.spec.holder_identity = "pod-a"
    seen_by_a.spec.lease_transitions = 1
    leases.replace_namespaced_lease("leader", "default", seen_by_a)

    seen_by_b.spec.holder_identity = "pod-b"
    with pytest.raises(ApiException) as raised:
        leases.replace_namespaced_lease("leader", "default", seen_by_b)

    assert raised.value.status == 409
    assert json.loads(raised.value.body)["reason"] == "Conflict"
    assert leases.read_namespaced_lease("leader", "default").spec.holder_identity == "pod-a"


def test_a_second_create_of_the_lease_is_refused_with_409(kube_client: client.ApiClient) -> None:
    leases = client.CoordinationV1Api(kube_client)
    leases.create_namespaced_lease("default", _lease("leader", "pod-a"))

    with pytest.raises(ApiException) as raised:
        leases.create_namespaced_lease("default", _lease("leader", "pod-b"))

    assert raised.value.status == 409


def test_changes_of_a_lease_are_watched(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    leases = client.CoordinationV1Api(kube_client)
    listed = leases.list_namespaced_lease("default")
    created = leases.create_namespaced_lease("default", _lease("leader", "pod-a"))
    created.spec.holder_identity = "pod-b"
    leases.replace_namespaced_lease("leader", "default", created)

    events = [
        (event["type"], event["object"].spec.holder_identity)
        for event in watch.Watch().stream(
            leases.list_namespaced_lease,
            "default",
            resource_version=listed.metadata.resource_version,
            timeout_seconds=1,
        )
    ]

    assert events == [("ADDED", "pod-a"), ("MODIFIED", "pod-b")]


def test_kubectl_finds_lists_and_reads_leases(
    kube_client: client.ApiClient, kubectl: Kubectl
) -> None:
    client.CoordinationV1Api(kube_client).create_namespaced_lease(
        "default", _lease("license-service-leader", "pod-a")
    )

    resources = kubectl("api-resources", "--api-group=coordination.k8s.io").stdout
    holder = kubectl(
        "get", "lease", "license-service-leader", "-o", "jsonpath={.spec.holderIdentity}"
    ).stdout

    assert "leases" in resources
    assert "Lease" in resources
    assert holder == "pod-a"


def test_a_partition_cuts_off_only_the_client_it_names(fake_api: FakeApiServer) -> None:
    cut_off = api_client(fake_api.url)
    cut_off.user_agent = "license-service/1 (pod-a)"
    cut_off.rest_client.pool_manager.connection_pool_kw["retries"] = 0
    other = api_client(fake_api.url)
    other.user_agent = "license-service/1 (pod-b)"
    fake_api.faults.partition(r"\(pod-a\)")

    with cut_off, other:
        with pytest.raises(urllib3.exceptions.HTTPError):
            client.CoordinationV1Api(cut_off).list_namespaced_lease("default")
        assert client.CoordinationV1Api(other).list_namespaced_lease("default").items == []
        fake_api.faults.clear()
        assert client.CoordinationV1Api(cut_off).list_namespaced_lease("default").items == []


def test_a_lease_time_without_six_fraction_digits_is_refused_as_upstream_does(
    kube_client: client.ApiClient,
) -> None:
    leases = client.CoordinationV1Api(kube_client)

    with pytest.raises(ApiException) as raised:
        leases.create_namespaced_lease(
            "default", _lease("leader", "pod-a", at=datetime(2026, 1, 1, tzinfo=UTC))
        )

    assert raised.value.status == 400
    assert "2006-01-02T15:04:05.000000Z07:00" in json.loads(raised.value.body)["message"]
