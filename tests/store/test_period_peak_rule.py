"""The SQL of ``store.period_peaks`` gives what the one period-peak rule (the fold) gives.

Hypothesis writes random histories — several samples a day, ties on later days, renames,
gaps, ratios whose text sorts unlike their value — inside a transaction it rolls back,
then compares the period rows of the SQL fast path with ``fold_period_peaks`` over the
same daily peaks, for every kind of row, random periods and metric filters, on SQLite
and on PostgreSQL.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection

from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.metering.row_specs import PeriodPeak, R, RowSpec
from license_service.metering.usage import Measurement
from license_service.metering.usage_rows import (
    USAGE_ROWS,
    BundledProductUsage,
    ProductUsage,
    ServiceUsage,
)
from license_service.store.database import Database
from license_service.store.period_peaks import period_peaks
from license_service.store.samples import record_sample
from tests.metering.period_folds import fold_period_peaks
from tests.store.daily_peaks import daily_peaks
from tests.store.sample_builders import CLUSTER, INTERVAL, PVU, VPC, at, bundled, product, service

FIRST_DAY = date(2026, 11, 1)
DAYS = 6
RATIOS = ("1:1", "2:1", "10:1", "3:2")
METRICS = (VPC, PVU)

names = st.sampled_from(("", "Renamed", "Zeta", "alpha"))
values = st.integers(min_value=0, max_value=4)


def products() -> st.SearchStrategy[ProductUsage]:
    return st.builds(
        product,
        st.sampled_from(("db2", "mq", "was")),
        values,
        name=names,
        metric=st.sampled_from(METRICS),
    )


def bundles() -> st.SearchStrategy[BundledProductUsage]:
    return st.builds(
        bundled,
        st.sampled_from(("ace", "mq")),
        values,
        ratio=st.sampled_from(RATIOS),
        product_name=names,
        cloudpak_name=names,
        cloudpak_version=st.sampled_from(("1", "2")),
        metric=st.sampled_from(METRICS),
    )


def services() -> st.SearchStrategy[ServiceUsage]:
    return st.builds(
        service,
        st.sampled_from(("api", "ui")),
        values,
        product_id=st.sampled_from(("ace", "mq")),
        service_name=names,
        product_name=names,
        metric=st.sampled_from(METRICS),
    )


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[datetime, Measurement]]:
    """Samples at distinct instants of the first days of November, each a few usage rows."""
    instants = draw(
        st.lists(
            st.tuples(st.integers(0, DAYS - 1), st.integers(0, 23 * 60 + 59)),
            min_size=1,
            max_size=14,
            unique=True,
        )
    )
    history = []
    for offset, minute in instants:
        taken_at = at(FIRST_DAY.isoformat()) + timedelta(days=offset, minutes=minute)
        history.append(
            (
                taken_at,
                Measurement(
                    products=tuple(draw(st.lists(products(), max_size=4))),
                    bundled_products=tuple(draw(st.lists(bundles(), max_size=4))),
                    services=tuple(draw(st.lists(services(), max_size=3))),
                ),
            )
        )
    return history


def folded(
    connection: Connection,
    rows: RowSpec[R],
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None,
) -> list[PeriodPeak[R]]:
    """The fold of the daily peaks the store holds, day by day."""
    peaks = daily_peaks(connection, rows, cluster_id=cluster_id, period=period, metric=metric)
    days = itertools.groupby(peaks, key=lambda peak: peak.day)
    return fold_period_peaks(rows, [(day, [peak.row for peak in group]) for day, group in days])


@settings(
    max_examples=40,
    deadline=None,
    # Each example writes in a transaction it rolls back: the database is left empty.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    history=histories(),
    first=st.integers(0, DAYS - 1),
    span=st.integers(0, DAYS - 1),
    metric=st.sampled_from((None, *METRICS)),
)
def test_the_sql_fast_path_gives_the_fold_of_the_daily_peaks(
    db: Database,
    history: list[tuple[datetime, Measurement]],
    first: int,
    span: int,
    metric: str | None,
) -> None:
    start = FIRST_DAY + timedelta(days=first)
    period = DatePeriod(start, min(start + timedelta(days=span), FIRST_DAY + timedelta(days=DAYS)))
    with db.engine.connect() as connection, connection.begin() as transaction:
        for taken_at, measurement in history:
            record_sample(
                connection,
                cluster_id=CLUSTER,
                taken_at=taken_at,
                measurement=measurement,
                interval_seconds=INTERVAL,
            )
        for rows in USAGE_ROWS:
            fast = period_peaks(connection, rows, cluster_id=CLUSTER, period=period, metric=metric)
            assert fast == folded(
                connection, rows, cluster_id=CLUSTER, period=period, metric=metric
            )
        transaction.rollback()
