"""A clock the test moves by hand, for grace periods and failure windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

START = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


class FakeClock:
    """Returns ``now``; ``advance`` moves it forward."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
