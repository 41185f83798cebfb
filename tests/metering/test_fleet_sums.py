"""The fleet's numbers (SPEC 11): daily sums over clusters, the highest, the earliest day."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from license_service.metering.fleet_sums import (
    acknowledged_day,
    contributions,
    day_totals,
    fleet_peaks,
    missing_days,
)
from license_service.metering.period_peaks import PeakFold
from license_service.metering.periods import DatePeriod
from license_service.metering.row_specs import PeriodPeak
from license_service.metering.usage_rows import PRODUCT_ROWS, ProductUsage

D1 = date(2026, 12, 1)


def _day(offset: int) -> date:
    return D1 + timedelta(days=offset)


def _rows(**values: int) -> list[ProductUsage]:
    return [ProductUsage(f"name {i}", i, "VPC", v) for i, v in values.items()]


def test_the_period_value_is_the_highest_daily_sum_not_the_sum_of_peaks() -> None:
    a = {_day(0): _rows(p=5), _day(1): _rows(p=1)}
    b = {_day(0): _rows(p=1), _day(1): _rows(p=4)}
    [peak] = fleet_peaks(PRODUCT_ROWS, [a, b])
    assert (peak.row.quantity, peak.peak_date) == (6, _day(0))


def test_the_peak_date_is_the_earliest_day_reaching_the_highest_sum() -> None:
    a = {_day(0): _rows(p=2), _day(1): _rows(p=3), _day(2): _rows(p=1)}
    b = {_day(0): _rows(p=3), _day(2): _rows(p=4)}
    [peak] = fleet_peaks(PRODUCT_ROWS, [a, b])
    assert (peak.row.quantity, peak.peak_date) == (5, _day(0))


def test_a_day_a_cluster_did_not_report_adds_nothing_and_names_come_from_the_latest_day() -> None:
    a = {
        _day(0): [ProductUsage("old", "p", "VPC", 2)],
        _day(3): [ProductUsage("new", "p", "VPC", 1)],
    }
    b = {_day(3): [ProductUsage("new", "p", "VPC", 1)]}
    [peak] = fleet_peaks(PRODUCT_ROWS, [a, b])
    assert peak.row == ProductUsage("new", "p", "VPC", 2)
    assert peak.peak_date == _day(0)


def test_contributions_are_each_clusters_value_on_the_day() -> None:
    clusters = {"b": {_day(0): _rows(p=2)}, "a": {_day(0): _rows(p=3, q=1)}, "c": {}}
    found = contributions(PRODUCT_ROWS, clusters, ("p", "VPC"), _day(0))
    assert [(c.cluster_id, c.value, c.reported) for c in found] == [
        ("a", 3, True),
        ("b", 2, True),
        ("c", 0, False),
    ]


def test_missing_days_run_from_the_first_day_to_yesterday() -> None:
    period = DatePeriod(_day(0), _day(9))
    assert missing_days([_day(2), _day(4)], first_day=_day(2), period=period, today=_day(6)) == [
        _day(3),
        _day(5),
    ]
    assert missing_days([], first_day=None, period=period, today=_day(6)) == []


_values = st.integers(min_value=0, max_value=1000)
_cluster = st.dictionaries(
    st.integers(min_value=0, max_value=9).map(_day),
    st.dictionaries(st.sampled_from(["p", "q"]), _values, min_size=1).map(lambda v: _rows(**v)),
    max_size=10,
)


def _by_key(clusters: list) -> dict:
    return {(p.row.id, p.row.metric): p for p in fleet_peaks(PRODUCT_ROWS, clusters)}


@given(st.lists(_cluster, max_size=5))
def test_a_days_fleet_value_is_the_sum_of_the_clusters_values(clusters: list) -> None:
    for key, peak in _by_key(clusters).items():
        on_peak_day = sum(
            r.quantity for c in clusters for r in c.get(peak.peak_date, []) if r.id == key[0]
        )
        assert on_peak_day == peak.row.quantity
        for day in {d for c in clusters for d in c}:
            rows = [r for c in clusters for r in c.get(day, []) if r.id == key[0]]
            total = sum(r.quantity for r in rows)
            assert total <= peak.row.quantity
            if day < peak.peak_date and rows:
                # An earlier day that reported the product never reached the peak; a day
                # without it reached nothing (a peak of 0 is on the first day reporting 0).
                assert total < peak.row.quantity


@given(st.lists(_cluster, min_size=1, max_size=5))
def test_the_period_value_is_never_below_any_single_clusters(clusters: list) -> None:
    fleet = _by_key(clusters)
    for cluster in clusters:
        for key, peak in _by_key([cluster]).items():
            assert fleet[key].row.quantity >= peak.row.quantity


@given(st.lists(_cluster, max_size=4), _cluster)
def test_adding_a_cluster_never_lowers_the_period_value(clusters: list, added: dict) -> None:
    before = _by_key(clusters)
    after = _by_key([*clusters, added])
    for key, peak in before.items():
        assert after[key].row.quantity >= peak.row.quantity


@given(
    st.dictionaries(st.integers(min_value=0, max_value=20).map(_day), st.booleans(), max_size=15)
)
def test_acknowledged_day_is_the_end_of_the_first_complete_run(held: dict) -> None:
    found = acknowledged_day(sorted(held.items()))
    if found is None:
        assert not held or not held[min(held)]
        return
    first = min(held)
    run = [first + timedelta(days=n) for n in range((found - first).days + 1)]
    assert all(held.get(day) is True for day in run)
    assert held.get(found + timedelta(days=1)) is not True


_named_cluster = st.dictionaries(
    st.integers(min_value=0, max_value=6).map(_day),
    st.dictionaries(
        st.sampled_from(["p", "q"]), st.tuples(st.sampled_from(["A", "B", "C"]), _values)
    ).map(lambda v: [ProductUsage(name, i, "VPC", q) for i, (name, q) in v.items()]),
    max_size=7,
)


@given(st.lists(_named_cluster, max_size=4))
def test_day_totals_of_the_sums_by_names_fold_into_the_fleets_period_rows(clusters: list) -> None:
    """The snapshot's daily file (sums kept per key and names, made one row per key a day)
    folds into the same period rows as ``fleet_peaks`` (the API's)."""
    by_names: dict[date, dict[tuple, int]] = {}
    for cluster in clusters:
        for day, rows in cluster.items():
            sums = by_names.setdefault(day, {})
            for row in rows:
                sums[row[:-1]] = sums.get(row[:-1], 0) + row.quantity
    fold: PeakFold[tuple, date] = PeakFold(
        key_of=PRODUCT_ROWS.key_of, value_of=PRODUCT_ROWS.value_of
    )
    for day in sorted(by_names):
        stored = sorted((*names, total) for names, total in by_names[day].items())
        totals = day_totals(PRODUCT_ROWS, stored)
        assert len({PRODUCT_ROWS.key_of(row) for row in totals}) == len(totals)
        assert totals == sorted(totals)
        fold.add_day(day, totals)
    folded = PRODUCT_ROWS.sorted_peaks(
        PeriodPeak(PRODUCT_ROWS.with_value(ProductUsage(*p.latest), p.peak), p.peak_day)
        for p in fold.peaks()
    )
    assert folded == fleet_peaks(PRODUCT_ROWS, clusters)
