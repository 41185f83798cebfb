"""Delays between reconnection attempts: exponential, capped and jittered.

After the n-th failure in a row the delay is ``initial * 2**(n-1)``, capped at ``cap``,
and then drawn uniformly from its upper half ("equal jitter"): three collectors that
lost the same server do not come back in lock-step, yet each still waits at least
half the nominal delay. ``reset`` after progress starts again from ``initial``.
"""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """The delay before the next attempt after consecutive failures."""

    def __init__(
        self,
        *,
        initial: float,
        cap: float,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        """``uniform(a, b)`` draws the jitter (injectable to make tests exact)."""
        self._initial = initial
        self._cap = cap
        self._uniform = uniform
        self._failures = 0

    @property
    def failures(self) -> int:
        """How many failures in a row were counted since the last reset."""
        return self._failures

    def next_delay(self) -> float:
        """Count one more failure and return how long to wait before retrying."""
        self._failures += 1
        nominal = min(self._cap, self._initial * 2 ** min(self._failures - 1, 62))
        return self._uniform(nominal / 2, nominal)

    def reset(self) -> None:
        """Progress was made: the next failure waits ``initial`` again."""
        self._failures = 0
