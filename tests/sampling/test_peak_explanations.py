"""The breakdown kept with every sample that raises a day's peak (SPEC 9)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from license_service.cluster.simulated import SimulatedCluster
from license_service.metering.chargeback_groups import measure_groups
from license_service.metering.explanation_cells import ExplainedRow
from license_service.metering.measuring import measure
from license_service.metering.settings import MeteringSettings
from license_service.metering.usage_explanations import WHOLE_CLUSTER
from license_service.sampling.backfill import backfill
from license_service.sampling.peak_explanations import (
    explained_quantities,
    keep_peak_explanations,
)
from license_service.sampling.schedule import boundaries
from license_service.store.database import Database
from license_service.store.samples import record_sample
from license_service.store.usage_explanations import KeptExplanation, kept_explanations

MIDNIGHT = datetime(2026, 3, 2, tzinfo=UTC)
CLUSTER = SimulatedCluster(seed=11)
SETTINGS = MeteringSettings()


def _kept_of(
    connection: Connection, row: ExplainedRow, group_name: str = WHOLE_CLUSTER
) -> list[KeptExplanation]:
    """The kept explanations of ``row`` on the first day (the whole cluster's, or a group's)."""
    return [
        kept
        for kept in kept_explanations(
            connection,
            cluster_id=CLUSTER.cluster_id,
            day=MIDNIGHT.date(),
            group_name=group_name,
            product_id=row.product_id,
            metric=row.metric,
        )
        if kept.explanation.row == row
    ]


def test_each_row_keeps_the_breakdown_of_the_first_sample_reaching_the_days_peak(
    database: Database,
) -> None:
    end = MIDNIGHT + timedelta(days=1)
    backfill(
        database,
        CLUSTER.view_at,
        cluster_id=CLUSTER.cluster_id,
        start=MIDNIGHT,
        end=end,
        settings=SETTINGS,
    )
    peaks: dict[object, tuple[int, datetime]] = {}
    for instant in boundaries(MIDNIGHT, end, timedelta(minutes=5)):
        for key, value in explained_quantities(measure(CLUSTER.view_at(instant), SETTINGS)).items():
            if key not in peaks or value > peaks[key][0]:
                peaks[key] = (value, instant)

    assert len(peaks) > 5
    with database.read() as connection:
        for key, (value, first_at) in peaks.items():
            kept = _kept_of(connection, key)
            assert [(k.explanation.metric_quantity, k.sample_at) for k in kept] == [
                (value, first_at)
            ], key


def test_a_sample_that_raises_nothing_explains_nothing(database: Database) -> None:
    view = CLUSTER.view_at(MIDNIGHT)
    measurement = measure(view, SETTINGS)
    explained = []
    for minutes in (0, 5):
        taken_at = MIDNIGHT + timedelta(minutes=minutes)
        with database.begin() as connection:
            record_sample(
                connection,
                cluster_id=CLUSTER.cluster_id,
                taken_at=taken_at,
                measurement=measurement,
                interval_seconds=300,
            )
            explained.append(
                keep_peak_explanations(
                    connection,
                    cluster_id=CLUSTER.cluster_id,
                    taken_at=taken_at,
                    view=view,
                    settings=SETTINGS,
                    measurement=measurement,
                )
            )

    assert explained[0] == len(explained_quantities(measurement)) > 0
    assert explained[1] == 0


def test_an_earlier_sample_reaching_the_same_peak_replaces_a_later_one(
    database: Database,
) -> None:
    # A sample recorded late (after an outage, say): the day's peak was first reached by
    # it, so its breakdown is the one kept; a sample after both raises nothing.
    view = CLUSTER.view_at(MIDNIGHT)
    measurement = measure(view, SETTINGS)
    explained = []
    for minutes in (10, 5, 15, 10):
        taken_at = MIDNIGHT + timedelta(minutes=minutes)
        with database.begin() as connection:
            kept_rows = keep_peak_explanations(
                connection,
                cluster_id=CLUSTER.cluster_id,
                taken_at=taken_at,
                view=view,
                settings=SETTINGS,
                measurement=measurement,
            )
        explained.append((minutes, kept_rows))
    quantities = explained_quantities(measurement)
    rows = len(quantities)
    assert explained == [(10, rows), (5, rows), (15, 0), (10, 0)]
    with database.read() as connection:
        kept = [k for row in quantities for k in _kept_of(connection, row)]
    assert len(kept) == rows
    assert {k.sample_at for k in kept} == {MIDNIGHT + timedelta(minutes=5)}


def test_with_chargeback_each_group_keeps_the_breakdown_of_its_own_day_peak(
    database: Database,
) -> None:
    end = MIDNIGHT + timedelta(hours=6)
    backfill(
        database,
        CLUSTER.view_at,
        cluster_id=CLUSTER.cluster_id,
        start=MIDNIGHT,
        end=end,
        settings=SETTINGS,
        chargeback=True,
    )
    peaks: dict[tuple[str, ExplainedRow], tuple[int, datetime]] = {}
    for instant in boundaries(MIDNIGHT, end, timedelta(minutes=5)):
        grouped = measure_groups(CLUSTER.view_at(instant), SETTINGS)
        for group, measurement in grouped.groups.items():
            for key, value in explained_quantities(measurement).items():
                if (group, key) not in peaks or value > peaks[(group, key)][0]:
                    peaks[(group, key)] = (value, instant)

    assert len({group for group, _ in peaks}) >= 3, "the simulated cluster has three teams"
    with database.read() as connection:
        for (group, key), (value, first_at) in peaks.items():
            kept = _kept_of(connection, key, group)
            assert [(k.explanation.metric_quantity, k.sample_at) for k in kept] == [
                (value, first_at)
            ], (group, key)
            explanation = kept[0].explanation
            assert explanation.total_millicores == sum(
                c.capped_millicores for c in explanation.contributions
            )
