"""Filling the store with history computed from a function of time (the demo's 90 days).

``backfill`` stores a sample at every aligned instant of a period, as the sampler
would have, under one set of settings. It is built for volume: many samples per
transaction (one day's worth by default), and a measurement is reused while the
view does not change (``measure`` is pure, so an equal view gives an equal result).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from itertools import islice

from license_service.metering.chargeback_groups import namespace_groups
from license_service.metering.cluster_view import ClusterId, ClusterView
from license_service.metering.measuring import GroupedMeasurement, measure_in_groups
from license_service.metering.settings import MeteringSettings
from license_service.sampling.peak_explanations import keep_peak_explanations
from license_service.sampling.sampler import Transactions
from license_service.sampling.schedule import (
    DEFAULT_INTERVAL,
    boundaries,
    count_boundaries,
    interval_seconds,
)
from license_service.store.samples import record_sample
from license_service.store.settings_history import record_settings

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called with (samples stored so far, samples in total)."""


def backfill(
    database: Transactions,
    source_at: Callable[[datetime], ClusterView],
    *,
    cluster_id: ClusterId,
    start: datetime,
    end: datetime,
    settings: MeteringSettings,
    interval: timedelta = DEFAULT_INTERVAL,
    progress: Progress | None = None,
    batch_size: int = 288,
    chargeback: bool = False,
) -> int:
    """Store a sample of ``source_at(t)`` at every aligned ``t`` in [start, end); return the count.

    The settings are recorded as in force from the first sample. ``progress`` is
    called before the first batch and after each one. ``chargeback``: the chargeback
    groups' peaks are stored too (SPEC 8).
    """
    seconds = interval_seconds(interval)
    if batch_size < 1:
        raise ValueError(f"batch_size {batch_size} must be at least 1")
    total = count_boundaries(start, end, interval)
    logger.info("Backfilling %d samples from %s to %s", total, start.isoformat(), end.isoformat())
    if progress is not None:
        progress(0, total)
    instants = boundaries(start, end, interval)
    previous: tuple[ClusterView, GroupedMeasurement, Mapping[str, str]] | None = None
    stored = 0
    while batch := list(islice(instants, batch_size)):
        with database.begin() as connection:
            if stored == 0:
                record_settings(connection, cluster_id=cluster_id, at=batch[0], settings=settings)
            for instant in batch:
                view = source_at(instant)
                if previous is None or previous[0] != view:
                    group_of = namespace_groups(view).group_of if chargeback else {}
                    grouped = measure_in_groups(view, settings, group_of)
                    previous = (view, grouped, group_of)
                record_sample(
                    connection,
                    cluster_id=cluster_id,
                    taken_at=instant,
                    measurement=previous[1].cluster,
                    interval_seconds=seconds,
                    groups=previous[1].groups,
                )
                keep_peak_explanations(
                    connection,
                    cluster_id=cluster_id,
                    taken_at=instant,
                    view=view,
                    settings=settings,
                    measurement=previous[1].cluster,
                    groups=previous[1].groups,
                    group_of=previous[2],
                )
        stored += len(batch)
        if progress is not None:
            progress(stored, total)
    logger.info("Backfilled %d samples", stored)
    return stored
