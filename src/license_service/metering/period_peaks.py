"""The period-peak rule (SPEC 2.7) as a pure fold of daily rows: one row per key.

For each row key of a period: the value is the highest daily value, ``peak_date`` the
earliest day that reached it, and the names those of the latest day that has the row.
``store.period_peaks`` computes the same in SQL (the fast path behind the API);
property tests hold the two equal on SQLite and PostgreSQL. The snapshot folds the
daily rows it streams into its daily files here, so it reads the store once.

``PeakFold`` takes the rows of one day at a time, days in increasing order (as the
store streams them), at most one row per key and day. Rows may be decoded rows or their
stored tuples (a spec's ``key_of`` and ``value_of`` read both), days dates or
``YYYY-MM-DD`` text (both sort by date). No side effects: the fold only updates its own
state.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

_Row = TypeVar("_Row")
_Day = TypeVar("_Day", date, str)


class _KeyPeak(Generic[_Row, _Day]):
    """One key's latest row, and its peak so far with the earliest day of it."""

    __slots__ = ("latest", "peak", "peak_day")

    def __init__(self, row: _Row, value: int, day: _Day) -> None:
        self.latest = row
        self.peak = value
        self.peak_day: _Day = day


@dataclass(frozen=True, slots=True)
class FoldedPeak(Generic[_Row, _Day]):
    """A key's period peak as folded: the latest row, the highest value, its earliest day."""

    latest: _Row
    peak: int
    peak_day: _Day


class PeakFold(Generic[_Row, _Day]):
    """Daily rows folded into period peaks, one day at a time, days in increasing order."""

    def __init__(
        self, *, key_of: Callable[[_Row], Hashable], value_of: Callable[[_Row], int]
    ) -> None:
        """Fold rows keyed by ``key_of`` (a row's key) on ``value_of`` (its daily value)."""
        self._key_of = key_of
        self._value_of = value_of
        self._keys: dict[Hashable, _KeyPeak[_Row, _Day]] = {}
        self._last_day: _Day | None = None

    def add_day(self, day: _Day, rows: Iterable[_Row]) -> None:
        """Fold in the rows of ``day`` (one per key), a day after every day folded so far.

        Days coming in order, a day's row is its key's latest, and the peak moves to the
        day only when strictly higher: an equal value was reached on an earlier day.
        Raises ``ValueError`` for a day that does not come after the last one folded.
        """
        if self._last_day is not None and not day > self._last_day:
            raise ValueError(
                f"daily rows of {day} after those of {self._last_day}: fold days in order"
            )
        self._last_day = day
        keys = self._keys
        known = keys.get
        key_of = self._key_of
        value_of = self._value_of
        for row in rows:
            key = key_of(row)
            state = known(key)
            if state is None:
                keys[key] = _KeyPeak(row, value_of(row), day)
                continue
            state.latest = row
            value = value_of(row)
            if value > state.peak:
                state.peak = value
                state.peak_day = day

    def peaks(self) -> Iterator[FoldedPeak[_Row, _Day]]:
        """The period peak of every key folded so far, in no particular order."""
        for state in self._keys.values():
            yield FoldedPeak(state.latest, state.peak, state.peak_day)
