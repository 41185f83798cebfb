"""The period-peak rule as a fold: highest daily value, earliest day reaching it, latest names."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from license_service.metering.period_peaks import PeakFold
from license_service.metering.ratios import parse_ratio
from license_service.metering.row_specs import PeriodPeak
from license_service.metering.usage_rows import (
    BUNDLED_PRODUCT_ROWS,
    PRODUCT_ROWS,
    BundledProductUsage,
    ProductUsage,
)
from tests.metering.period_folds import fold_period_peaks

VPC = "VIRTUAL_PROCESSOR_CORE"
DAY = date(2026, 11, 1)

DailyRows = dict[date, list[ProductUsage]]


@st.composite
def daily_rows(draw: st.DrawFn) -> DailyRows:
    """Up to ten days, each with at most one row per (id, metric) key, names varying."""
    days: DailyRows = {}
    for offset in draw(st.sets(st.integers(0, 9), max_size=6)):
        keys = draw(st.sets(st.tuples(st.sampled_from("abc"), st.sampled_from((VPC, "PVU")))))
        days[DAY + timedelta(days=offset)] = [
            ProductUsage(
                draw(st.sampled_from(("A", "B", "C"))), key, metric, draw(st.integers(0, 3))
            )
            for key, metric in sorted(keys)
        ]
    return days


def by_definition(days: DailyRows) -> list[PeriodPeak[ProductUsage]]:
    """SPEC 2.7 written out: per key the highest value, its earliest day, the latest names."""
    keys = {(row.id, row.metric) for rows in days.values() for row in rows}
    peaks = []
    for key in keys:
        dated = sorted(
            (day, row) for day, rows in days.items() for row in rows if (row.id, row.metric) == key
        )
        highest = max(row.quantity for _, row in dated)
        earliest = min(day for day, row in dated if row.quantity == highest)
        peaks.append(PeriodPeak(dated[-1][1]._replace(quantity=highest), earliest))
    return sorted(peaks, key=lambda peak: (peak.row.name, peak.row.id, peak.row.metric))


@settings(max_examples=200)
@given(daily_rows(), st.randoms())
def test_the_fold_gives_the_definition_whatever_the_order_of_the_days(
    days: DailyRows, chance: random.Random
) -> None:
    given_days = list(days.items())
    chance.shuffle(given_days)

    assert fold_period_peaks(PRODUCT_ROWS, given_days) == by_definition(days)


def test_a_later_day_with_the_same_peak_keeps_the_earlier_peak_date() -> None:
    days = [
        (DAY, [ProductUsage("MQ", "mq", VPC, 4)]),
        (DAY + timedelta(days=1), [ProductUsage("MQ", "mq", VPC, 6)]),
        (DAY + timedelta(days=2), [ProductUsage("MQ Advanced", "mq", VPC, 6)]),
        (DAY + timedelta(days=3), [ProductUsage("IBM MQ", "mq", VPC, 5)]),
    ]

    assert fold_period_peaks(PRODUCT_ROWS, days) == [
        PeriodPeak(ProductUsage("IBM MQ", "mq", VPC, 6), DAY + timedelta(days=1))
    ]


def test_stored_rows_fold_as_their_decoded_rows() -> None:
    """The snapshot folds rows as the database holds them (a ratio as text): same keys."""
    rows = [
        BundledProductUsage("ACE", "ace", "cp4i", "CP4I", "1", VPC, VPC, measured, parse_ratio(r))
        for measured, r in ((3, "2:1"), (5, "10:1"), (4, "2:1"))
    ]
    fold: PeakFold[tuple[object, ...], str] = PeakFold(
        key_of=BUNDLED_PRODUCT_ROWS.key_of, value_of=BUNDLED_PRODUCT_ROWS.value_of
    )
    fold.add_day("2026-11-01", [(*row[:8], str(row.conversion)) for row in rows[:2]])
    fold.add_day("2026-11-02", [(*rows[2][:8], str(rows[2].conversion))])

    folded = sorted((peak.latest[8], peak.peak, peak.peak_day) for peak in fold.peaks())
    assert folded == [("10:1", 5, "2026-11-01"), ("2:1", 4, "2026-11-02")]


def test_days_given_out_of_order_to_the_incremental_fold_are_refused() -> None:
    fold: PeakFold[ProductUsage, date] = PeakFold(
        key_of=PRODUCT_ROWS.key_of, value_of=PRODUCT_ROWS.value_of
    )
    fold.add_day(DAY + timedelta(days=1), [ProductUsage("MQ", "mq", VPC, 1)])

    with pytest.raises(ValueError, match="fold days in order"):
        fold.add_day(DAY, [ProductUsage("MQ", "mq", VPC, 2)])
