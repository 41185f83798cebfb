"""A follower's ``/metrics`` (SPEC 3.9, 11, 12): the pods not counted and the sender's
families are the leader's, from the view it shared, so every replica exposes the same
values; without a readable view they are left out, never the follower's own zeros."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from license_service.election.lease_records import ReplicaId
from license_service.leadership.elector import LeaderStatus
from license_service.metering.usage import AnnotationProblem, Measurement, PodProblems
from license_service.reporting.sender import SenderStatus
from license_service.web.app_state import AppState
from license_service.web.metrics.metrics_app import create_metrics_app
from license_service.web.probes.leader_view import (
    FollowedView,
    LeaderView,
    decoded,
    encoded,
    leader_view_document,
)
from tests.web.conftest import NOW, sampling_status

REPORTER = "https://reporter.example:8443"
# More pods than /health lists: the gauge counts them all.
BROKEN = Measurement(
    incomplete_annotations=tuple(
        PodProblems("ns", f"pod-{n:04}", (AnnotationProblem("productMetric", "missing"),))
        for n in range(150)
    ),
)
# Below a second: the follower's figure is the leader's number, not /health's text.
LAST_PUSH = NOW - timedelta(minutes=3, microseconds=250_000)
PUSHING = SenderStatus(
    reporter_url=REPORTER,
    certificates_verified=True,
    last_push_at=LAST_PUSH,
    acknowledged_through=date(2026, 11, 27),
    push_failures=2,
)
IDLE = SenderStatus(reporter_url=REPORTER, certificates_verified=True)
FOLLOWED = (
    "license_service_uncounted_pods",
    "license_service_reporter_last_push_timestamp_seconds",
    "license_service_reporter_acknowledged_day",
    "license_service_reporter_push_failures_total",
)


def _replica(name: str, *, leading: bool) -> LeaderStatus:
    return LeaderStatus(
        identity=ReplicaId(name),
        lease="Lease ibm-common-services/license-service-leader",
        leading=leading,
        leader="svc-a",
        leader_since=NOW - timedelta(hours=2),
    )


def _leader(state: AppState) -> AppState:
    return dataclasses.replace(
        state,
        sampler_status=lambda: sampling_status(last_measurement=BROKEN),
        sender_status=lambda: PUSHING,
        leader_status=lambda: _replica("svc-a", leading=True),
        # The leader reads its own view too: it must not show it in place of its own.
        leader_view=lambda: FollowedView(None, problem="not asked"),
    )


def _follower(state: AppState, followed: FollowedView) -> AppState:
    # A follower's own status: the leader's stored samples without problems, an idle sender.
    return dataclasses.replace(
        state,
        sampler_status=lambda: sampling_status(last_measurement=Measurement(), samples_taken=0),
        sender_status=lambda: IDLE,
        leader_status=lambda: _replica("svc-b", leading=False),
        leader_view=lambda: followed,
    )


def _shared_by_leader() -> FollowedView:
    document = leader_view_document(sampling_status(last_measurement=BROKEN), PUSHING)
    # Through the text the store keeps, as a follower reads it.
    return FollowedView(LeaderView("svc-a", NOW, decoded(encoded(document))))


def _samples(state: AppState) -> dict[str, float]:
    with TestClient(create_metrics_app(state, CollectorRegistry())) as metrics:
        text = metrics.get("/metrics").text
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _followed(samples: dict[str, float]) -> dict[str, float]:
    return {name: value for name, value in samples.items() if name in FOLLOWED}


def test_a_follower_exposes_the_leaders_uncounted_pods_and_sender_figures(
    state: AppState,
) -> None:
    leader = _samples(_leader(state))
    follower = _samples(_follower(state, _shared_by_leader()))

    assert _followed(leader) == {
        "license_service_uncounted_pods": 150.0,
        "license_service_reporter_last_push_timestamp_seconds": LAST_PUSH.timestamp(),
        "license_service_reporter_acknowledged_day": datetime(2026, 11, 27, tzinfo=UTC).timestamp(),
        "license_service_reporter_push_failures_total": 2.0,
    }
    assert _followed(follower) == _followed(leader)


def test_what_stays_per_replica_is_the_followers_own(state: AppState) -> None:
    follower = _samples(_follower(state, _shared_by_leader()))

    # The sampler's counters are this process's: a follower has taken no sample.
    assert follower["license_service_samples_taken_total"] == 0.0
    assert _samples(_leader(state))["license_service_samples_taken_total"] == 12.0


def test_a_follower_without_a_readable_view_leaves_the_figures_out(state: AppState) -> None:
    unreadable = FollowedView(None, problem="the leader's view has format 1")

    follower = _samples(_follower(state, unreadable))

    assert _followed(follower) == {}
    assert "license_service_samples_taken_total" in follower


def test_a_follower_shows_no_sender_figures_when_the_leader_has_no_reporter(
    state: AppState,
) -> None:
    document = leader_view_document(sampling_status(last_measurement=BROKEN), SenderStatus())
    followed = FollowedView(LeaderView("svc-a", NOW, decoded(encoded(document))))

    follower = _samples(_follower(state, followed))

    assert _followed(follower) == {"license_service_uncounted_pods": 150.0}
