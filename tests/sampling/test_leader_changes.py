"""Only the leader stores (the gate), and a change of leader leaves a gap that says so."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from license_service.metering.settings import MeteringSettings
from license_service.sampling.leader_changes import leader_change_reason, record_leader_change
from license_service.sampling.replica_status import StoredSampleView, replica_sampler_status
from license_service.sampling.sampler import Sampler
from license_service.sampling.status import SamplerStatus
from license_service.store.database import Database
from license_service.store.sampling_gaps import gaps
from license_service.store.tables import missed_samples
from tests.sampling.doubles import START, FixedSource, state, stored_sample_times
from tests.store.conftest import fresh_postgres_schema, postgres_url_or_skip

INTERVAL = timedelta(seconds=300)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, database: Database) -> Iterator[Database]:
    """The SQLite store of the folder, or one on PostgreSQL."""
    if request.param == "sqlite":
        yield database
        return
    with fresh_postgres_schema(postgres_url_or_skip()) as url:
        opened = Database.open(url)
        yield opened
        opened.dispose()


def _sampler(store: Database, *, leading: list[bool]) -> Sampler:
    return Sampler(
        FixedSource(state()),
        store,
        settings=MeteringSettings,
        clock=lambda: START,
        interval=INTERVAL,
        may_store=lambda: leading[0],
    )


def _reasons(store: Database) -> list[tuple[str, str]]:
    with store.read() as connection:
        rows = connection.execute(select(missed_samples.c.missed_at, missed_samples.c.reason))
        return [(row.missed_at.isoformat(), row.reason) for row in rows]


def test_a_replica_that_no_longer_leads_stores_nothing_and_counts_no_failure(
    store: Database,
) -> None:
    leading = [True]
    sampler = _sampler(store, leading=leading)
    sampler.take_sample(START)

    leading[0] = False
    sampler.take_sample(START + INTERVAL)

    assert stored_sample_times(store) == [START]
    assert sampler.status().samples_missed == 0
    assert _reasons(store) == []


def test_a_takeover_records_the_instants_missed_since_the_last_sample_with_its_reason(
    store: Database,
) -> None:
    _sampler(store, leading=[True]).take_sample(START)
    reason = leader_change_reason(new="pod-b", previous="pod-a", previous_renewed=START)

    # The old leader died after its sample at START; pod-b took over 2 intervals + 20 s later
    # and samples at once (the instant due 20 s ago is then a late sample, not a missed one).
    took_over = START + INTERVAL * 2 + timedelta(seconds=20)
    missed = record_leader_change(
        store, cluster_id=state().cluster_id, now=took_over, interval=INTERVAL, reason=reason
    )
    _sampler(store, leading=[True]).take_sample(took_over)
    with store.read() as connection:
        found = gaps(connection, cluster_id=state().cluster_id, start=START, end=took_over)

    assert missed == 1
    assert (
        reason == "leader changed: pod-b took over from pod-a (last renewed 2026-03-04T10:00:00Z)"
    )
    assert _reasons(store) == [((START + INTERVAL).isoformat(), reason)]
    assert [(gap.reason, gap.samples_missed) for gap in found] == [(reason, 1)]


def test_a_takeover_within_half_an_interval_of_the_last_sample_records_nothing(
    store: Database,
) -> None:
    _sampler(store, leading=[True]).take_sample(START)

    missed = record_leader_change(
        store,
        cluster_id=state().cluster_id,
        now=START + INTERVAL + timedelta(seconds=100),
        interval=INTERVAL,
        reason=leader_change_reason(new="pod-b", previous="", previous_renewed=None),
    )

    assert missed == 0
    assert _reasons(store) == []


def test_a_follower_says_what_the_leader_sampled_and_a_leader_what_it_sampled(
    store: Database,
) -> None:
    leading = [False]
    follower_own = SamplerStatus(interval=INTERVAL)
    view = StoredSampleView(store, cluster_id=state().cluster_id)
    status = replica_sampler_status(lambda: follower_own, leading=lambda: leading[0], stored=view)
    before = status()

    _sampler(store, leading=[True]).take_sample(START)  # the leader's write, heard by the view
    after = status()
    leading[0] = True

    assert before.last_sample_at is None
    assert after.last_sample_at == START
    assert after.last_measurement is not None
    assert [row.quantity for row in after.last_measurement.products] == [6]
    assert status() is follower_own


def test_the_reason_of_a_leader_retaking_its_own_lease_says_so() -> None:
    reason = leader_change_reason(new="pod-a", previous="pod-a", previous_renewed=START)

    assert reason == (
        "leader changed: pod-a stopped leading (its Lease was not renewed in time) and took it back"
    )
