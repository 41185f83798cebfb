"""Every replica answers ``/health``, ``/status`` and the problem and sender gauges of
``/metrics`` with the leader's problems and sender (SPEC 3.4, 3.9, 11, 12): two real
``serve --leader-election`` replicas on one PostgreSQL, a cluster holding a pod with a
broken annotation and a sender pushing to a fake Reporter. Only the leader measures and
pushes; the follower answers with what the leader shared through the database, and says
whose view it is and how old."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.kubernetes.cluster import Cluster, licensed_pod
from tests.e2e.kubernetes.replicas import Replica, Replicas
from tests.e2e.processes import eventually
from tests.reporting.fake_reporter import TOKEN, FakeReporter, running_reporter
from tests.store.conftest import fresh_postgres_schema, postgres_url_or_skip

pytestmark = pytest.mark.postgres

INTERVAL = 2
SHARED = ("incompleteAnnotations", "unmeasuredMetrics", "unknownNodes", "sender")
# The gauges a Prometheus scraping every replica must see alike (alert rules read them).
FOLLOWED_GAUGES = (
    "license_service_uncounted_pods",
    "license_service_reporter_last_push_timestamp_seconds",
    "license_service_reporter_acknowledged_day",
    "license_service_reporter_push_failures_total",
)


def _broken_pod() -> dict[str, Any]:
    pod = licensed_pod("broken-1", cpu="1")
    del pod["metadata"]["annotations"]["productMetric"]
    return pod


@pytest.fixture
def replicas(cluster: Cluster) -> Iterator[Replicas]:
    cluster.api.create(licensed_pod("qmgr-1", cpu="2"))
    cluster.api.create(_broken_pod())
    with fresh_postgres_schema(postgres_url_or_skip()) as url:
        started = Replicas(cluster, url, sample_interval=INTERVAL)
        yield started
        started.stop_all()


@pytest.fixture
def reporter() -> Iterator[FakeReporter]:
    with running_reporter() as running:
        yield running


def _shared(replicas: Replicas, replica: Replica) -> dict[str, object]:
    health = replicas.health(replica)
    return {name: health.get(name) for name in SHARED}


def _followed_lines(replica: Replica) -> list[str]:
    """The exposition lines of ``FOLLOWED_GAUGES`` in ``replica``'s ``/metrics``."""
    answer = httpx.get(replica.service.metrics_url, timeout=5)
    answer.raise_for_status()
    return sorted(
        line for line in answer.text.splitlines() if line.split(" ")[0] in FOLLOWED_GAUGES
    )


def test_a_follower_answers_with_the_leaders_problem_sections_and_sender(
    replicas: Replicas, reporter: FakeReporter, tmp_path: Path
) -> None:
    token_file = tmp_path / "reporter-token"
    token_file.write_text(TOKEN)
    flags = ("--reporter-url", reporter.url, "--reporter-token-file", str(token_file))
    leader = replicas.start("replica-a", *flags)
    assert replicas.leader() is leader
    follower = replicas.start("replica-b", *flags)

    def leader_measured_and_pushed() -> dict[str, object] | None:
        shared = _shared(replicas, leader)
        sender = shared["sender"]
        pushed = isinstance(sender, dict) and sender["lastPushAt"] is not None
        counted = shared["incompleteAnnotations"] == {
            "count": 1,
            "pods": [
                {
                    "namespace": "mq",
                    "name": "broken-1",
                    "problems": [{"annotation": "productMetric", "reason": "missing"}],
                }
            ],
        }
        return shared if pushed and counted else None

    expected = eventually(leader_measured_and_pushed, within=30, what="a sample and a push")
    answered = eventually(
        lambda: _shared(replicas, follower) == expected or None,
        within=10,
        what="the follower answering with the leader's sections",
    )
    health = replicas.health(follower)
    status_page = httpx.get(
        f"{follower.service.url}/status",
        headers={"Authorization": f"Bearer {replicas.cluster.token()}"},
        timeout=5,
    )

    leaders_lines = _followed_lines(leader)

    def followers_gauges_equal_to_the_leaders() -> list[str] | None:
        lines = _followed_lines(follower)
        return lines if lines == leaders_lines else None

    followers_lines = eventually(
        followers_gauges_equal_to_the_leaders,
        within=10,
        what=f"the follower's gauges equal to the leader's {leaders_lines}",
    )

    assert answered
    assert followers_lines == leaders_lines
    assert "license_service_uncounted_pods 1.0" in leaders_lines
    assert len(leaders_lines) == len(FOLLOWED_GAUGES)  # a push done and acknowledged
    assert len(reporter.pushes) == 1  # the follower still does not push
    leader_section = health["leader"]
    assert isinstance(leader_section, dict)
    view = leader_section["leaderView"]
    assert view["writtenBy"] == "replica-a"
    assert view["stale"] is False
    assert 0 <= view["ageSeconds"] <= 10
    assert "leaderView" not in replicas.health(leader)["leader"]  # type: ignore[operator]
    assert not any("leader's view" in warning for warning in health["warnings"])  # type: ignore[attr-defined]
    assert status_page.status_code == 200
    assert "broken-1" in status_page.text
    assert reporter.url in status_page.text
