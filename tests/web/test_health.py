"""``/health`` (SPEC 3.4): the document, and when the service is DEGRADED."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from license_service.cluster.source import ClusterState
from license_service.election.lease_records import ReplicaId
from license_service.leadership.elector import LeaderStatus
from license_service.metering.cluster_view import ClusterId
from license_service.metering.usage import (
    AnnotationProblem,
    Measurement,
    PodProblems,
    PodRef,
    UnknownNode,
    UnmeasuredProduct,
)
from license_service.sampling.status import SamplerStatus
from license_service.store.database import Database
from license_service.web.pages.leader_facts import leader_facts
from license_service.web.probes.health import health_document
from tests.store.sample_builders import at, product, store
from tests.web.conftest import INTERVAL, NOW, World, authorized, sampling_status, synced_source


def test_health_answers_the_spec_document(client: TestClient, world: World) -> None:
    world.sampler = sampling_status(
        NOW - timedelta(minutes=3),
        next_sample_at=NOW + timedelta(minutes=2),
        last_measurement=Measurement(
            incomplete_annotations=(
                PodProblems("ns", "pod-1", (AnnotationProblem("productMetric", "missing"),)),
            ),
        ),
    )
    world.warnings = ["IBMLicensing: ignored 1 unknown field: spec.colour"]
    response = client.get("/health", params=authorized())
    assert response.status_code == 200
    assert response.json() == {
        "status": "OK",
        "checkedAt": "2026-11-28T10:00:00Z",
        "collector": {
            "source": "simulated",
            "synced": True,
            "lastSampleAt": "2026-11-28T09:57:00Z",
            "nextSampleAt": "2026-11-28T10:02:00Z",
            "lastError": None,
        },
        "incompleteAnnotations": {
            "count": 1,
            "pods": [
                {
                    "namespace": "ns",
                    "name": "pod-1",
                    "problems": [{"annotation": "productMetric", "reason": "missing"}],
                }
            ],
        },
        "unmeasuredMetrics": [],
        "unknownNodes": [],
        "warnings": ["IBMLicensing: ignored 1 unknown field: spec.colour"],
        "firstDayWithData": None,
        "namespaceScope": {
            "excludeNamespace": "",
            "excludeNamespaceSince": None,
            "chargebackEnabled": False,
        },
    }


def test_health_lists_unmeasured_metrics_and_unknown_nodes() -> None:
    measurement = Measurement(
        unmeasured_metrics=(UnmeasuredProduct("p1", "Product 1", "USER", None),),
        unknown_nodes=(UnknownNode("gone-node", (PodRef("ns", "pod-2"),), 1),),
        warnings=("node 'n1' has no status.capacity.cpu",),
    )
    document = health_document(
        now=NOW,
        sampler=sampling_status(last_measurement=measurement),
        source=synced_source(),
        token_problem=None,
    )
    assert document["unmeasuredMetrics"] == [
        {"productName": "Product 1", "productId": "p1", "metricName": "USER", "cloudpakId": None}
    ]
    assert document["unknownNodes"] == [
        {
            "nodeName": "gone-node",
            "pods": [{"namespace": "ns", "name": "pod-2"}],
            "containersWithoutLimit": 1,
        }
    ]
    assert document["warnings"] == ["node 'n1' has no status.capacity.cpu"]
    assert document["status"] == "OK"


def unsynced(**changes: object) -> ClusterState:
    """A Kubernetes source that lost its connection; ``changes`` override fields."""
    lost = dataclasses.replace(
        synced_source(), source="kubernetes", synced=False, last_error="connection refused"
    )
    return dataclasses.replace(lost, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("sampler", "source", "token_problem", "reason"),
    [
        pytest.param(
            sampling_status(),
            unsynced(),
            None,
            "kubernetes source has not synchronised",
            id="source-not-synced",
        ),
        pytest.param(
            sampling_status(),
            unsynced(synced=True, observed_at=NOW - timedelta(minutes=20), last_error=None),
            None,
            "view of the cluster is 20 minutes old",
            id="source-stale",
        ),
        pytest.param(
            sampling_status(), None, None, "has no view of the cluster yet", id="no-source-yet"
        ),
        pytest.param(
            sampling_status(NOW - INTERVAL * 2 - timedelta(seconds=1)),
            synced_source(),
            None,
            "samples are missing: the last one was taken 10 minutes ago",
            id="no-sample-for-over-2-intervals",
        ),
        pytest.param(
            sampling_status(last_sample_at=None, last_error="database is locked"),
            synced_source(),
            None,
            "no sample has been taken since the service started (last error: database is locked)",
            id="ticked-but-never-sampled",
        ),
        pytest.param(
            sampling_status(),
            synced_source(),
            "the configured API token is invalid: character ' ' at position 4",
            "the configured API token is invalid",
            id="token-unusable",
        ),
    ],
)
def test_health_is_degraded_and_says_why(
    sampler: SamplerStatus, source: ClusterState | None, token_problem: str | None, reason: str
) -> None:
    document = health_document(now=NOW, sampler=sampler, source=source, token_problem=token_problem)
    assert document["status"] == "DEGRADED"
    assert reason in document["warnings"][0]


@pytest.mark.parametrize(
    "sampler",
    [
        pytest.param(sampling_status(NOW - INTERVAL * 2), id="last-sample-exactly-2-intervals-ago"),
        pytest.param(SamplerStatus(interval=INTERVAL), id="just-started-no-tick-yet"),
    ],
)
def test_health_is_ok_within_two_intervals_and_before_the_first_tick(
    sampler: SamplerStatus,
) -> None:
    document = health_document(now=NOW, sampler=sampler, source=synced_source(), token_problem=None)
    assert (document["status"], document["warnings"]) == ("OK", [])


def test_collector_reports_the_last_error_and_unsynced_state(
    client: TestClient, world: World
) -> None:
    world.source = unsynced()
    world.sampler = sampling_status(last_error="the kubernetes source has not synchronised")
    body = client.get("/health", params=authorized()).json()
    assert body["status"] == "DEGRADED"
    assert body["collector"] == {
        "source": "kubernetes",
        "synced": False,
        "lastSampleAt": "2026-11-28T10:00:00Z",
        "nextSampleAt": None,
        "lastError": "the kubernetes source has not synchronised",
    }


def test_health_names_the_first_day_with_data(client: TestClient, database: Database) -> None:
    store(database, at("2026-11-03", "23:55"), product("p1", 2))
    store(database, at("2026-11-20", "10:00"), product("p2", 5))

    body = client.get("/health", params=authorized()).json()

    assert body["firstDayWithData"] == "2026-11-03"


def test_health_first_day_is_of_this_cluster_only(client: TestClient, database: Database) -> None:
    store(database, at("2026-10-01", "10:00"), product("p1", 2), cluster_id=ClusterId("other"))

    assert client.get("/health", params=authorized()).json()["firstDayWithData"] is None


def test_health_says_which_replica_leads_and_since_when_with_several_replicas() -> None:
    follower = LeaderStatus(
        identity=ReplicaId("svc-b"),
        lease="Lease ibm-common-services/license-service-leader",
        leading=False,
        leader="svc-a",
        leader_since=NOW,
    )

    document = health_document(
        now=NOW,
        sampler=SamplerStatus(interval=INTERVAL),
        source=None,
        token_problem=None,
        leader=follower,
    )
    alone = health_document(
        now=NOW, sampler=SamplerStatus(interval=INTERVAL), source=None, token_problem=None
    )

    assert document["leader"] == {
        "replica": "svc-b",
        "isLeader": False,
        "leader": "svc-a",
        "leaderSince": "2026-11-28T10:00:00Z",
        "lastError": None,
    }
    assert leader_facts(document) == [
        ("Leader", "svc-a since 2026-11-28T10:00:00Z (this replica is svc-b)")
    ]
    assert "leader" not in alone
    assert leader_facts(alone) == []
