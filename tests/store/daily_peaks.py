"""The stored daily peaks read back by name, for tests to state what the store holds.

The service reads daily rows in their stored form (``store.daily_rows.rows_by_day``);
tests compare decoded rows, one ``DailyPeak`` (a row plus its day) at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Generic

from sqlalchemy import Connection

from license_service.metering.cluster_view import ClusterId
from license_service.metering.periods import DatePeriod
from license_service.metering.row_specs import R, RowSpec
from license_service.store.daily_rows import rows_by_day
from license_service.store.stored_rows import decoded


@dataclass(frozen=True, slots=True, order=True)
class DailyPeak(Generic[R]):
    """A day's row: the day's highest value and its latest names; sorts by day, then row."""

    day: date
    row: R


def daily_peaks(
    connection: Connection,
    rows: RowSpec[R],
    *,
    cluster_id: ClusterId,
    period: DatePeriod,
    metric: str | None = None,
) -> Iterator[DailyPeak[R]]:
    """``rows_by_day`` one decoded ``DailyPeak`` at a time."""
    for day, day_rows in rows_by_day(
        connection, rows, cluster_id=cluster_id, period=period, metric=metric
    ):
        when = date.fromisoformat(day)
        for values in day_rows:
            yield DailyPeak(when, decoded(rows, values))
