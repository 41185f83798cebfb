"""Only the leader pushes to the Reporter (SPEC 11, 12): two real replicas with
``--reporter-url`` on one PostgreSQL; the Reporter hears one push at start, not one per
replica; when the leader stops, the new leader goes on from the acknowledged day."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.kubernetes.cluster import Cluster, licensed_pod
from tests.e2e.kubernetes.replicas import Replicas
from tests.e2e.processes import eventually
from tests.reporting.fake_reporter import TOKEN, FakeReporter, running_reporter
from tests.store.conftest import fresh_postgres_schema, postgres_url_or_skip

pytestmark = pytest.mark.postgres

INTERVAL = 2


@pytest.fixture
def replicas(cluster: Cluster) -> Iterator[Replicas]:
    cluster.api.create(licensed_pod("qmgr-1", cpu="2"))
    with fresh_postgres_schema(postgres_url_or_skip()) as url:
        started = Replicas(cluster, url, sample_interval=INTERVAL)
        yield started
        started.stop_all()


@pytest.fixture
def reporter() -> Iterator[FakeReporter]:
    with running_reporter() as running:
        yield running


def test_only_the_leader_pushes_and_a_new_leader_resumes(
    replicas: Replicas, reporter: FakeReporter, tmp_path: Path
) -> None:
    token_file = tmp_path / "reporter-token"
    token_file.write_text(TOKEN)
    flags = ("--reporter-url", reporter.url, "--reporter-token-file", str(token_file))
    first = replicas.start("replica-a", *flags)
    assert replicas.leader() is first
    other = replicas.start("replica-b", *flags)
    eventually(lambda: reporter.pushes or None, within=20, what="a first push")
    # Several sampling intervals: a replica that does not lead would have pushed by now.
    time.sleep(4 * INTERVAL)
    assert len(reporter.pushes) == 1
    assert len(reporter.pushes[0].dates) == 31
    sender = replicas.health(first)["sender"]
    assert isinstance(sender, dict)
    assert sender["reporterURL"] == reporter.url
    # The sender runs on the leader only: a follower shows the leader's sender section.
    eventually(
        lambda: replicas.health(other).get("sender") == replicas.health(first)["sender"] or None,
        within=5,
        what="the follower showing the leader's sender",
    )

    assert first.service.stop() == 0
    first.killed = True
    assert replicas.leader(within=10) is other
    eventually(lambda: len(reporter.pushes) > 1 or None, within=20, what="the new leader's push")
    today = datetime.now(UTC).date().isoformat()
    assert reporter.pushes[1].dates == [today]
    assert len(reporter.pushes) == 2
