"""Test doubles for sampling: a fixed source, a fake clock, a store that fails on demand."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select

from license_service.cluster.source import ClusterState
from license_service.errors import StorageError
from license_service.metering.cluster_view import ClusterId, ClusterView, Container, Node, Pod
from license_service.store.database import Database
from license_service.store.tables import product_daily_peaks, sample_products, samples

CLUSTER = ClusterId("0b6f3a52-3c1e-4c1a-9d55-7c1f0e2b9a10")
PRODUCT_ID = "liberty-1"
START = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)

# One product using six cores on one 16-core node: 6 VPC, 3 VPC at two threads per core.
SIX_CORES = ClusterView(
    pods=(
        Pod(
            namespace="payments",
            name="payments-api-7d9f8b6c5d-x2x9q",
            node_name="node-1",
            containers=(Container("liberty", "6"),),
            annotations={
                "productID": PRODUCT_ID,
                "productName": "IBM WebSphere Liberty",
                "productMetric": "VIRTUAL_PROCESSOR_CORE",
            },
        ),
    ),
    nodes=(Node("node-1", "16"),),
)


def state(
    *,
    synced: bool = True,
    observed_at: datetime = START,
    last_error: str | None = None,
    view: ClusterView = SIX_CORES,
) -> ClusterState:
    return ClusterState(
        view=view,
        synced=synced,
        observed_at=observed_at,
        cluster_id=CLUSTER,
        source="kubernetes",
        last_error=last_error,
    )


class FixedSource:
    """A source whose state the test sets; raises ``failures`` times before answering."""

    def __init__(self, current: ClusterState, *, failures: int = 0) -> None:
        self.state = current
        self.failures = failures

    def current(self) -> ClusterState:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("bug in the source: list index out of range")
        return self.state


class ClockedSource:
    """A synchronised source whose view is current at ``clock()``."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock

    def current(self) -> ClusterState:
        return state(observed_at=self.clock())


class FlakyDatabase:
    """The real database, whose next ``failures`` transactions fail as if it were down."""

    def __init__(self, database: Database, *, failures: int = 0) -> None:
        self.database = database
        self.failures = failures

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        if self.failures:
            self.failures -= 1
            raise StorageError("database sqlite:///store.db: disk I/O error")
        with self.database.begin() as connection:
            yield connection


class FakeTime:
    """A clock and an asyncio sleep that moves it; sets ``stop`` once ``until`` is reached."""

    def __init__(self, now: datetime, *, until: datetime, stop: asyncio.Event) -> None:
        self.now = now
        self.until = until
        self.stop = stop
        self.slept: list[float] = []

    def clock(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)
        if self.now >= self.until:
            self.stop.set()
        await asyncio.sleep(0)


def stored_samples(database: Database) -> list[tuple[datetime, int]]:
    """(taken_at, quantity of PRODUCT_ID) of every stored sample, in time order."""
    with database.connect() as connection:
        rows = connection.execute(
            select(samples.c.taken_at, sample_products.c.quantity)
            .join(sample_products, sample_products.c.sample_id == samples.c.id)
            .where(sample_products.c.product_id == PRODUCT_ID)
            .order_by(samples.c.taken_at)
        )
        return [(row.taken_at, row.quantity) for row in rows]


def stored_sample_times(database: Database) -> list[datetime]:
    with database.connect() as connection:
        return list(connection.scalars(select(samples.c.taken_at).order_by(samples.c.taken_at)))


def daily_peaks(database: Database, product_id: str = PRODUCT_ID) -> dict[str, int]:
    with database.connect() as connection:
        rows = connection.execute(
            select(product_daily_peaks.c.day, product_daily_peaks.c.quantity).where(
                product_daily_peaks.c.product_id == product_id
            )
        )
        return {row.day.isoformat(): row.quantity for row in rows}
