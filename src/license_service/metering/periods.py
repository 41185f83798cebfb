"""Reporting periods: inclusive ranges of UTC calendar days (SPEC 2.7, 3)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

MAX_PERIOD_DAYS: Final = 731
EARLIEST_DATE: Final = date(1970, 1, 1)
"""No period starts earlier: no data can be that old, and date arithmetic near year 1 overflows."""
DEFAULT_PERIOD_DAYS: Final = 30


@dataclass(frozen=True, slots=True)
class DatePeriod:
    """The UTC days ``first`` to ``last``, both included."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.first > self.last:
            raise ValueError(f"period starts {self.first} after it ends {self.last}")

    @property
    def days(self) -> int:
        """How many calendar days the period holds."""
        return (self.last - self.first).days + 1

    def __iter__(self) -> Iterator[date]:
        for offset in range(self.days):
            yield self.first + timedelta(days=offset)

    def __str__(self) -> str:
        return f"{self.first.isoformat()}_{self.last.isoformat()}"

    @classmethod
    def ending(cls, last: date, *, days: int = DEFAULT_PERIOD_DAYS) -> DatePeriod:
        """The ``days`` days that end with ``last`` (the default period: 30 days to today)."""
        return cls(last - timedelta(days=days - 1), last)
