"""The demo's history: which samples to backfill so the store covers the last N days.

Backfilling every 5 minutes costs about 8 ms a sample (90 days: over three
minutes), so the history is sampled every hour up to the last full hour (90
days: about 2,200 samples, some 20 s on two cores), then at the sampling interval
(at least 5 minutes) up to now; the live sampler carries on from there. Daily
peaks of the hourly part are therefore the highest of 24 samples a day.

A re-run fills only what is missing: history starts after the newest stored
sample, so running ``demo`` again after a pause fills the pause, and running it
again at once backfills nothing. ``plan_history`` is pure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from license_service.cluster.simulated import SimulatedCluster
from license_service.metering.settings import MeteringSettings
from license_service.sampling.backfill import backfill
from license_service.sampling.sampler import Transactions
from license_service.sampling.schedule import DEFAULT_INTERVAL, count_boundaries, next_boundary
from license_service.store.samples import latest_sample

COARSE_INTERVAL: Final = timedelta(hours=1)
_JUST_AFTER: Final = timedelta(microseconds=1)

Progress = Callable[[int, int], None]
"""Called with (samples stored so far, samples to store in total)."""


@dataclass(frozen=True, slots=True)
class HistorySegment:
    """Samples every ``interval`` at the aligned instants of [start, end)."""

    start: datetime
    end: datetime
    interval: timedelta

    @property
    def samples(self) -> int:
        """How many samples the segment stores."""
        return count_boundaries(self.start, self.end, self.interval)


def plan_history(
    *,
    now: datetime,
    days: int,
    latest: datetime | None,
    live_interval: timedelta,
) -> list[HistorySegment]:
    """The segments that fill the ``days`` before ``now`` after ``latest`` (if any); pure."""
    coarse = max(COARSE_INTERVAL, live_interval)
    fine = max(DEFAULT_INTERVAL, live_interval)
    start = now - timedelta(days=days)
    if latest is not None:
        start = max(start, latest + _JUST_AFTER)
    if start >= now:
        return []
    last_full = next_boundary(now, coarse)
    if last_full > now:
        last_full -= coarse
    split = max(start, last_full)
    segments = [
        HistorySegment(start, split, coarse),
        HistorySegment(split, now, fine),
    ]
    return [segment for segment in segments if segment.samples]


def fill_history(
    database: Transactions,
    cluster: SimulatedCluster,
    *,
    now: datetime,
    days: int,
    settings: MeteringSettings,
    live_interval: timedelta,
    progress: Progress | None = None,
    chargeback: bool = False,
) -> int:
    """Backfill what ``plan_history`` says is missing; return the number of samples stored.

    ``chargeback``: the chargeback groups' peaks are stored too (SPEC 8)."""
    with database.begin() as connection:
        newest = latest_sample(connection, cluster_id=cluster.cluster_id)
    segments = plan_history(
        now=now,
        days=days,
        latest=newest.taken_at if newest is not None else None,
        live_interval=live_interval,
    )
    total = sum(segment.samples for segment in segments)
    stored = 0
    if progress is not None:
        progress(0, total)
    for segment in segments:
        done_before = stored

        def report(done: int, _: int, offset: int = done_before) -> None:
            if progress is not None:
                progress(offset + done, total)

        stored += backfill(
            database,
            cluster.view_at,
            cluster_id=cluster.cluster_id,
            start=segment.start,
            end=segment.end,
            settings=settings,
            interval=segment.interval,
            progress=report,
            chargeback=chargeback,
        )
    return stored
