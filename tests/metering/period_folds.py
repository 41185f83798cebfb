"""The period-peak rule over decoded rows, days in any order: the tests' statement of it.

The service folds daily rows as the store streams them, in order (``PeakFold``, used by
the snapshot); the tests fold days given in any order and compare with the definition
and with the SQL fast path.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from license_service.metering.period_peaks import PeakFold
from license_service.metering.row_specs import PeriodPeak, R, RowSpec


def fold_period_peaks(
    spec: RowSpec[R], days: Iterable[tuple[date, Iterable[R]]]
) -> list[PeriodPeak[R]]:
    """The period rows of ``days`` (each day with its rows, days in any order), in the API's
    order."""
    fold: PeakFold[R, date] = PeakFold(key_of=spec.key_of, value_of=spec.value_of)
    for day, rows in sorted(days, key=lambda day_rows: day_rows[0]):
        fold.add_day(day, rows)
    return spec.sorted_peaks(
        PeriodPeak(spec.with_value(peak.latest, peak.peak), peak.peak_day) for peak in fold.peaks()
    )
