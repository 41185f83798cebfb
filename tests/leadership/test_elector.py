"""The election loop on virtual time: who leads, when another takes over, stepping down."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from license_service.election.lease_records import ReplicaId
from license_service.leadership.elector import LeaderElector, Takeover

from .fake_time import FakeTime, inline
from .memory_leases import MemoryLease, MemoryLeaseClient


@dataclass
class Replica:
    """One replica's elector, its run, and the terms it led (start, end in virtual seconds)."""

    elector: LeaderElector
    leases: MemoryLeaseClient
    time: FakeTime
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    terms: list[list[float]] = field(default_factory=list)
    takeovers: list[Takeover] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    async def _lead(self, resign: asyncio.Event, takeover: Takeover) -> None:
        self.takeovers.append(takeover)
        term = [self.time.now]
        self.terms.append(term)
        await resign.wait()
        term.append(self.time.now)

    def start(self) -> None:
        self.task = asyncio.ensure_future(self.elector.run(self.stop, self._lead))

    def kill(self) -> None:
        """SIGKILL: the loop ends at once, nothing is released."""
        assert self.task is not None
        self.task.cancel()


class World:
    """Virtual time, the Lease, and the replicas a test started."""

    def __init__(self) -> None:
        self.time = FakeTime()
        self.lease = MemoryLease()
        self.replicas: list[Replica] = []

    def replica(self, name: str) -> Replica:
        leases = self.lease.client()
        elector = LeaderElector(
            leases,
            identity=ReplicaId(name),
            wall_clock=self.time.wall,
            monotonic=self.time.monotonic,
            sleep=self.time.sleep,
            run_blocking=inline,
        )
        replica = Replica(elector, leases, self.time)
        self.replicas.append(replica)
        replica.start()
        return replica

    async def end(self) -> None:
        for replica in self.replicas:
            if replica.task is not None:
                replica.task.cancel()
                await asyncio.gather(replica.task, return_exceptions=True)


def run(scenario: Callable[[World], Coroutine[Any, Any, None]]) -> None:
    """Run ``scenario`` in a fresh world on a fresh event loop."""

    async def main() -> None:
        world = World()
        try:
            await scenario(world)
        finally:
            await world.end()

    asyncio.run(main())


def test_the_first_replica_creates_the_lease_and_leads() -> None:
    async def scenario(world: World) -> None:
        time, lease = world.time, world.lease
        a = world.replica("pod-a")

        await time.advance(1)

        assert a.elector.leading()
        assert a.takeovers[0].previous is None
        assert lease.record is not None
        assert lease.record.holder == "pod-a"
        assert a.elector.status().leader == "pod-a"
        assert a.elector.status().leader_since == lease.record.acquire_time

    run(scenario)


def test_only_one_replica_leads_while_the_leader_renews() -> None:
    async def scenario(world: World) -> None:
        time, lease = world.time, world.lease
        a = world.replica("pod-a")
        await time.advance(1)
        b = world.replica("pod-b")

        await time.advance(120)

        assert a.elector.leading()
        assert not b.elector.leading()
        assert b.terms == []
        assert b.elector.status().leader == "pod-a"
        renewals = [w.renew_time for w in lease.writes]
        gaps = [(y - x).total_seconds() for x, y in itertools.pairwise(renewals)]
        assert max(gaps) == pytest.approx(5.0)

    run(scenario)


def test_a_killed_leader_is_replaced_after_the_lease_duration_and_the_gap_is_named() -> None:
    async def scenario(world: World) -> None:
        time, lease = world.time, world.lease
        a = world.replica("pod-a")
        await time.advance(1)
        b = world.replica("pod-b")
        await time.advance(10)
        assert lease.record is not None
        last_renewal = time.now - (time.wall() - lease.record.renew_time).total_seconds()

        a.kill()
        await time.advance(25)

        assert b.terms
        started = b.terms[0][0]
        # Not before 15 s after the last renewal, and at most one look (2 s) after that.
        assert last_renewal + 15 <= started <= last_renewal + 15 + 2 + 0.1
        assert b.takeovers[0].previous == "pod-a"
        assert lease.record.holder == "pod-b"
        assert lease.record.transitions == 1

    run(scenario)


def test_a_leader_cut_off_steps_down_before_another_may_take_over() -> None:
    async def scenario(world: World) -> None:
        time = world.time
        a = world.replica("pod-a")
        await time.advance(1)
        b = world.replica("pod-b")
        await time.advance(7)

        a.leases.cut_off = True
        await time.advance(40)

        a_term, b_term = a.terms[0], b.terms[0]
        assert len(a_term) == 2  # it stepped down
        assert a_term[1] < b_term[0]
        assert not a.elector.leading()
        assert b.elector.leading()
        assert "partition" in (a.elector.status().last_error or "")

    run(scenario)


def test_a_leader_whose_lease_another_wrote_stops_within_one_renew_period() -> None:
    async def scenario(world: World) -> None:
        time, lease = world.time, world.lease
        a = world.replica("pod-a")
        await time.advance(1)
        intruder = lease.client()
        record, version = intruder.read() or (None, "")
        assert record is not None
        taken_at = time.now
        intruder.update(replace(record, holder="pod-z"), resource_version=version)
        await time.advance(10)

        assert a.terms[0][1] - taken_at <= 5.0
        assert not a.elector.leading()
        assert a.elector.status().leader == "pod-z"

    run(scenario)


def test_a_clean_stop_releases_the_lease_and_the_next_replica_leads_at_its_next_look() -> None:
    async def scenario(world: World) -> None:
        time, lease = world.time, world.lease
        a = world.replica("pod-a")
        await time.advance(1)
        b = world.replica("pod-b")
        await time.advance(3)

        a.stop.set()
        await time.advance(0)
        stopped_at = time.now
        await time.advance(6)

        assert a.task is not None
        assert a.task.done()
        (release,) = [write for write in lease.writes if not write.holder]
        assert release.lease_duration_seconds == 1
        assert b.terms[0][0] - stopped_at <= 2.0
        assert b.takeovers[0].previous == ""

    run(scenario)


def test_a_leader_that_stepped_down_and_retakes_its_own_lease_names_itself_as_previous() -> None:
    async def scenario(world: World) -> None:
        time = world.time
        a = world.replica("pod-a")
        await time.advance(1)
        assert a.takeovers[0].previous is None  # it created the Lease

        a.leases.cut_off = True
        await time.advance(12)  # past the renew deadline, not past the Lease's expiry
        assert not a.elector.leading()
        a.leases.cut_off = False
        await time.advance(10)

        assert a.elector.leading()
        assert len(a.terms) == 2
        assert a.takeovers[1].previous == "pod-a"  # the gap between the terms gets a reason

    run(scenario)
