"""The Lease client against the fake API server, with the real kubernetes client."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from kubernetes import client

from license_service.cluster.kubernetes.leases import LeaseClient, LeaseConflict
from license_service.election.lease_records import LEASE_NAME, LeaseRecord, ReplicaId
from license_service.errors import ClusterError
from tests.kubernetes_fake.kubectl_runner import Kubectl
from tests.kubernetes_fake.server import FakeApiServer

AT = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)
RECORD = LeaseRecord(
    holder="pod-a", lease_duration_seconds=15, acquire_time=AT, renew_time=AT, transitions=0
)


def _leases(kube_client: client.ApiClient, identity: str = "pod-a") -> LeaseClient:
    return LeaseClient(
        kube_client, namespace="default", name=LEASE_NAME, identity=ReplicaId(identity), version="1"
    )


def test_no_lease_reads_as_none_then_the_created_record_reads_back_exactly(
    kube_client: client.ApiClient,
) -> None:
    leases = _leases(kube_client)

    absent = leases.read()
    version = leases.create(RECORD)

    assert absent is None
    assert leases.read() == (RECORD, version)


def test_a_write_over_a_stale_version_is_a_conflict(kube_client: client.ApiClient) -> None:
    a, b = _leases(kube_client, "pod-a"), _leases(kube_client, "pod-b")
    read_at = a.create(RECORD)
    a.update(replace(RECORD, renew_time=AT.replace(second=5)), resource_version=read_at)

    with pytest.raises(LeaseConflict, match="another replica wrote it first"):
        b.update(replace(RECORD, holder="pod-b"), resource_version=read_at)
    with pytest.raises(LeaseConflict):
        b.create(replace(RECORD, holder="pod-b"))


def test_a_released_lease_has_no_holder_and_kubectl_shows_the_times_as_written(
    kube_client: client.ApiClient, kubectl: Kubectl
) -> None:
    leases = _leases(kube_client)
    version = leases.create(RECORD)
    leases.update(replace(RECORD, holder="", lease_duration_seconds=1), resource_version=version)

    shown = kubectl(
        "get", "lease", LEASE_NAME, "-o", "jsonpath={.spec.renewTime} {.spec.holderIdentity}|"
    ).stdout

    record, _ = leases.read() or (None, "")
    assert record is not None
    assert record.released
    assert shown == "2026-12-06T12:00:00.000000Z |"  # MicroTime, as upstream writes it


def test_a_replica_cut_off_by_a_partition_gets_a_cluster_error_naming_the_lease(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    cut_off, other = _leases(kube_client, "pod-a"), _leases(kube_client, "pod-b")
    fake_api.faults.partition(r"\(pod-a\)")

    with pytest.raises(ClusterError, match="get Lease default/license-service-leader"):
        cut_off.read()
    assert other.read() is None


def test_a_forbidden_answer_says_which_rule_the_role_needs(
    fake_api: FakeApiServer, kube_client: client.ApiClient
) -> None:
    fake_api.faults.fail(1, status=403, path="/leases")

    with pytest.raises(ClusterError, match="get, create and update on the Lease"):
        _leases(kube_client).read()
