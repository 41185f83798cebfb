"""The chart with several replicas (SPEC 12): leader election, the Lease rule, a disruption
budget, spread over nodes; refused on SQLite; unchanged with one replica."""

from __future__ import annotations

import pytest

from license_service.election.lease_records import LEASE_NAME
from tests.deploy.chart import (
    NAMESPACE,
    SERVICE_NAME,
    container_of,
    find,
    manifest_objects,
    of_kind,
    rendered_objects,
    renderer,
)
from tests.deploy.test_rbac import (
    ANY,
    SERVICE_CALLS,
    SPEC_ONLY,
    _expanded,
    _granted,
)
from tests.deploy.test_workload import _parse_serve

REPLICAS = ["replicas=3", "postgresql.enabled=true"]
# What the leader election calls, beyond SERVICE_CALLS (only with replicas > 1).
LEASE_CALLS = (
    ("coordination.k8s.io", "leases", ("get", "update"), NAMESPACE, (LEASE_NAME,), "renew"),
    ("coordination.k8s.io", "leases", ("create",), NAMESPACE, (ANY,), "first replica creates"),
)


def test_replicas_run_with_leader_election_and_their_pod_name_as_identity() -> None:
    objects = rendered_objects(REPLICAS)
    container = container_of(objects)
    deployment = find(objects, "Deployment", SERVICE_NAME)

    parameters = _parse_serve(container["args"])
    (pod_name,) = [env for env in container["env"] if env["name"] == "POD_NAME"]

    assert deployment["spec"]["replicas"] == 3
    assert parameters["leader_election"] is True
    assert pod_name["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}


def test_the_role_grants_exactly_get_create_and_update_on_the_lease_besides_the_rest() -> None:
    granted = _granted(rendered_objects(REPLICAS), SERVICE_NAME)
    expected = _expanded(SERVICE_CALLS) | _expanded(SPEC_ONLY) | _expanded(LEASE_CALLS)

    assert sorted(granted ^ expected) == []


def test_a_drain_evicts_one_replica_at_a_time_and_replicas_spread_over_nodes() -> None:
    objects = rendered_objects(REPLICAS)
    (budget,) = of_kind(objects, "PodDisruptionBudget")
    pod = find(objects, "Deployment", SERVICE_NAME)["spec"]["template"]

    (spread,) = pod["spec"]["topologySpreadConstraints"]

    assert budget["spec"]["maxUnavailable"] == 1
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert spread["topologyKey"] == "kubernetes.io/hostname"
    assert spread["labelSelector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()


def test_replicas_on_sqlite_are_refused_when_rendering() -> None:
    with pytest.raises(renderer.TemplateError, match="replicas cannot share a SQLite file"):
        rendered_objects(["replicas=2"])


def test_one_replica_has_no_election_budget_or_lease_rule() -> None:
    objects = manifest_objects()

    assert of_kind(objects, "PodDisruptionBudget") == []
    assert "--leader-election" not in container_of(objects)["args"]
    assert not any(p.resource == "leases" for p in _granted(objects, SERVICE_NAME))
