"""The fleet's numbers (SPEC 11): per day the sum over clusters of their daily peaks.

Per row key (a product, or a Cloud Pak as its product row, and a metric) and day, the
fleet value is the sum of the clusters' daily peaks that day; a period's value is the
highest daily sum and its ``metricPeakDate`` the earliest day reaching it. A Cloud Pak
is summed whole: each cluster's Cloud Pak day value (already rounded up by that
cluster) is one addend, never its bundled products re-converted. A day a cluster did
not report adds nothing; ``missing_days`` names such days. Pure.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from license_service.metering.periods import DatePeriod
from license_service.metering.row_specs import PeriodPeak, RowSpec

DailyRows = Mapping[date, Sequence[Any]]
"""One cluster's daily peak rows (of one row spec), by day."""


def daily_sums(
    rows: RowSpec[Any], clusters: Iterable[DailyRows]
) -> dict[Hashable, dict[date, int]]:
    """Per row key and day, the sum over ``clusters`` of their values that day."""
    sums: dict[Hashable, dict[date, int]] = {}
    for days in clusters:
        for day, day_rows in days.items():
            for row in day_rows:
                by_day = sums.setdefault(rows.key_of(row), {})
                by_day[day] = by_day.get(day, 0) + rows.value_of(row)
    return sums


def fleet_peaks(rows: RowSpec[Any], clusters: Iterable[DailyRows]) -> list[PeriodPeak[Any]]:
    """The period rows of the fleet, in the API's order: per key the highest daily sum,
    on the earliest day reaching it, with the names of the key's latest row."""
    clusters = list(clusters)
    sums = daily_sums(rows, clusters)
    latest: dict[Hashable, tuple[date, Any]] = {}
    for days in clusters:
        for day, day_rows in days.items():
            for row in day_rows:
                key = rows.key_of(row)
                seen = latest.get(key)
                # Names: the latest day's; on one day the smallest row, so the answer
                # never depends on the order the clusters came in.
                if seen is None or day > seen[0] or (day == seen[0] and row < seen[1]):
                    latest[key] = (day, row)
    peaks = []
    for key, by_day in sums.items():
        value = max(by_day.values())
        peak_day = min(day for day, total in by_day.items() if total == value)
        peaks.append(PeriodPeak(rows.with_value(latest[key][1], value), peak_day))
    return rows.sorted_peaks(peaks)


def day_totals(rows: RowSpec[Any], day_rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """One day's fleet sum rows (stored form, the API's order) made one row per key.

    The sums are kept per key AND names, so a key whose names differ between clusters
    has several rows on a day: they become one, its value their sum and its names
    those of the smallest row (decoded), as ``fleet_peaks`` names a key, then the day
    is put back in the API's order. A day without such keys is returned as it is. Pure.
    """
    key_of = rows.key_of
    keys = {key_of(row) for row in day_rows}
    if len(keys) == len(day_rows):
        return [tuple(row) for row in day_rows]
    chosen: dict[Hashable, tuple[Any, Any]] = {}
    totals: dict[Hashable, int] = {}
    for row in day_rows:
        key = key_of(row)
        totals[key] = totals.get(key, 0) + rows.value_of(row)
        decoded = rows.from_stored(row)
        seen = chosen.get(key)
        if seen is None or decoded < seen[0]:
            chosen[key] = (decoded, row)
    at = rows.value_position
    merged = [
        (decoded, (*row[:at], totals[key], *row[at + 1 :]))
        for key, (decoded, row) in chosen.items()
    ]
    merged.sort(key=lambda pair: rows.with_value(pair[0], totals[rows.key_of(pair[0])]))
    return [row for _, row in merged]


@dataclass(frozen=True, slots=True)
class Contribution:
    """One cluster's daily peak of a key on the fleet's peak day (0: not reported)."""

    cluster_id: str
    value: int
    reported: bool


def contributions(
    rows: RowSpec[Any], clusters: Mapping[str, DailyRows], key: Hashable, day: date
) -> list[Contribution]:
    """Each cluster's value of ``key`` on ``day``, by cluster id; their sum is the fleet's."""
    found = []
    for cluster_id in sorted(clusters):
        day_rows = clusters[cluster_id].get(day)
        value = sum(rows.value_of(r) for r in day_rows or () if rows.key_of(r) == key)
        found.append(Contribution(cluster_id, value, day_rows is not None))
    return found


def missing_days(
    reported: Iterable[date], *, first_day: date | None, period: DatePeriod, today: date
) -> list[date]:
    """The days of ``period`` from the cluster's ``first_day`` up to yesterday that it did
    not report (today is still being pushed, and days before its first are not its)."""
    if first_day is None:
        return []
    start = max(period.first, first_day)
    end = min(period.last, today - timedelta(days=1))
    have = set(reported)
    found = []
    day = start
    while day <= end:
        if day not in have:
            found.append(day)
        day += timedelta(days=1)
    return found


def acknowledged_day(days: Iterable[tuple[date, bool]]) -> date | None:
    """The last complete day of ``days`` (day, complete), ascending, with every day from the
    first one held and complete up to it; ``None`` when the first day is not complete."""
    through = None
    expected = None
    for day, complete in days:
        if (expected is not None and day != expected) or not complete:
            break
        through = day
        expected = day + timedelta(days=1)
    return through
