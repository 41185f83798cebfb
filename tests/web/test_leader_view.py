"""A follower's ``/health`` (SPEC 3.4, 12): the leader's problem sections and sender, whose
view they are, how old, and a warning when it is stale or missing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from license_service.election.lease_records import ReplicaId
from license_service.leadership.elector import LeaderStatus
from license_service.metering.usage import (
    AnnotationProblem,
    Measurement,
    PodProblems,
    UnmeasuredProduct,
)
from license_service.reporting.sender import SenderStatus
from license_service.sampling.status import SamplerStatus
from license_service.web.pages.leader_facts import leader_facts
from license_service.web.probes.health import health_document
from license_service.web.probes.leader_view import (
    FollowedView,
    LeaderView,
    UnreadableView,
    decoded,
    encoded,
    leader_view_document,
)
from license_service.web.probes.sender_section import sender_section, sender_warnings
from tests.web.conftest import INTERVAL, NOW, sampling_status, synced_source

BROKEN = Measurement(
    incomplete_annotations=tuple(
        PodProblems("ns", f"pod-{n:04}", (AnnotationProblem("productMetric", "missing"),))
        for n in range(150)
    ),
    unmeasured_metrics=(UnmeasuredProduct("p1", "Product 1", "RESOURCE_UNIT"),),
    warnings=("pod ns/pod-x: cpu limit 'lots' is not a quantity",),
)
REFUSED = SenderStatus(
    reporter_url="https://reporter.example:8443",
    certificates_verified=True,
    last_push_at=NOW - timedelta(hours=1),
    acknowledged_through=date(2026, 11, 27),
    last_error="HTTP 401: the token is not accepted",
    last_error_at=NOW - timedelta(minutes=1),
    refused=True,
    push_failures=1,
)


def _replica(name: str, *, leading: bool) -> LeaderStatus:
    return LeaderStatus(
        identity=ReplicaId(name),
        lease="Lease ibm-common-services/license-service-leader",
        leading=leading,
        leader="svc-a",
        leader_since=NOW - timedelta(hours=2),
    )


def _leaders_health(sampler: SamplerStatus, sender: SenderStatus) -> dict[str, object]:
    document = health_document(
        now=NOW,
        sampler=sampler,
        source=synced_source(),
        token_problem=None,
        leader=_replica("svc-a", leading=True),
        sender=sender_section(sender),
        warnings=sender_warnings(sender),
    )
    return dict(document)


def _followers_health(
    followed: FollowedView, *, sender: SenderStatus | None = None
) -> dict[str, object]:
    view = followed.view
    document = health_document(
        now=NOW,
        # The follower's own sampler: the leader's samples, without their problems.
        sampler=sampling_status(last_measurement=Measurement()),
        source=synced_source(),
        token_problem=None,
        leader=_replica("svc-b", leading=False),
        sender=view.document["sender"] if view is not None else None,
        warnings=view.document["senderWarnings"] if view is not None else [],
        followed=followed,
    )
    return dict(document)


def _shared(written_ago: timedelta) -> FollowedView:
    document = leader_view_document(sampling_status(last_measurement=BROKEN), REFUSED)
    # Through the store's text and back, as a follower reads it.
    return FollowedView(LeaderView("svc-a", NOW - written_ago, decoded(encoded(document))))


def test_a_follower_answers_the_leaders_sections_sender_and_warnings() -> None:
    leaders = _leaders_health(sampling_status(last_measurement=BROKEN), REFUSED)

    followers = _followers_health(_shared(timedelta(seconds=20)))

    for name in ("incompleteAnnotations", "unmeasuredMetrics", "unknownNodes", "sender"):
        assert followers[name] == leaders[name], name
    assert followers["incompleteAnnotations"]["count"] == 150  # type: ignore[index]
    assert followers["warnings"] == leaders["warnings"]
    assert any("lists 100 of the 150 pods" in w for w in followers["warnings"])  # type: ignore[attr-defined]
    assert followers["leader"]["leaderView"] == {  # type: ignore[index]
        "writtenBy": "svc-a",
        "writtenAt": "2026-11-28T09:59:40Z",
        "ageSeconds": 20,
        "stale": False,
    }
    assert "leaderView" not in leaders["leader"]  # type: ignore[operator]


def test_a_view_older_than_three_sampling_intervals_is_shown_with_a_warning() -> None:
    fresh = _followers_health(_shared(3 * INTERVAL))
    stale = _followers_health(_shared(3 * INTERVAL + timedelta(seconds=1)))

    assert fresh["leader"]["leaderView"]["stale"] is False  # type: ignore[index]
    assert stale["leader"]["leaderView"]["stale"] is True  # type: ignore[index]
    assert stale["incompleteAnnotations"] == fresh["incompleteAnnotations"]
    assert stale["warnings"][0] == (  # type: ignore[index]
        "the leader's view of incompleteAnnotations, unmeasuredMetrics, unknownNodes and "
        "sender is 901 s old (written by svc-a at 2026-11-28T09:44:59Z): the leader has "
        "stopped sharing it, so it may be out of date"
    )
    assert not any("leader's view" in w for w in fresh["warnings"])  # type: ignore[attr-defined]
    # A warning, not a degradation: missing samples say whether the leader stopped sampling.
    assert stale["status"] == "OK"


def test_a_view_written_by_a_clock_a_little_ahead_is_not_from_the_future() -> None:
    followed = _followers_health(_shared(-timedelta(seconds=2)))

    assert followed["leader"]["leaderView"]["ageSeconds"] == 0  # type: ignore[index]


def test_a_follower_without_a_view_says_its_sections_are_its_own() -> None:
    document = _followers_health(FollowedView(None))

    assert document["leader"]["leaderView"] is None  # type: ignore[index]
    assert "sender" not in document
    assert document["warnings"][0].startswith(  # type: ignore[index]
        "the leader's view is not available (it has not written one yet): "
        "incompleteAnnotations, unmeasuredMetrics, unknownNodes and sender are this "
        "replica's own"
    )


def test_the_status_page_says_whose_view_a_follower_shows() -> None:
    document = health_document(
        now=NOW,
        sampler=sampling_status(),
        source=synced_source(),
        token_problem=None,
        leader=_replica("svc-b", leading=False),
        followed=_shared(timedelta(seconds=20)),
    )

    assert leader_facts(document) == [
        (
            "Leader",
            "svc-a since 2026-11-28T08:00:00Z (this replica is svc-b); problems and sender "
            "as svc-a shared them at 2026-11-28T09:59:40Z (20 s ago)",
        )
    ]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("{not json", "is not JSON"),
        # The format before the figures for /metrics: an older replica's view.
        (
            '{"format": 1, "sections": {}, "cuts": [], "sender": null, "senderWarnings": []}',
            "has format 1, this replica reads format 2: the replicas run",
        ),
        ('{"format": 3}', "has format 3, this replica reads format 2: the replicas run"),
        ("[1]", "has format 'list'"),
        (
            '{"format": 2, "sections": {}, "cuts": [], "sender": 3, "senderWarnings": [], '
            '"figures": {"uncountedPods": 1, "reporter": null}}',
            "'sender'",
        ),
        (
            '{"format": 2, "sections": {}, "cuts": [], "sender": null, "senderWarnings": []}',
            "'figures'",
        ),
        (
            '{"format": 2, "sections": {}, "cuts": [], "sender": null, "senderWarnings": [], '
            '"figures": {"uncountedPods": "1", "reporter": null}}',
            "'figures'",
        ),
    ],
)
def test_a_view_this_replica_cannot_read_is_refused_saying_why(text: str, said: str) -> None:
    with pytest.raises(UnreadableView, match=said):
        decoded(text)


def test_equal_views_are_equal_texts() -> None:
    first = leader_view_document(sampling_status(last_measurement=BROKEN), REFUSED)
    second = leader_view_document(sampling_status(last_measurement=BROKEN), REFUSED)
    changed = leader_view_document(sampling_status(last_measurement=BROKEN), SenderStatus())

    assert encoded(first) == encoded(second)
    assert encoded(first) != encoded(changed)
    assert decoded(encoded(changed))["sender"] is None
