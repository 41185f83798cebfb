"""Waiting for the collector's threads to reach a state, with a bounded deadline."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

DEADLINE_SECONDS = 10.0


def eventually(
    probe: Callable[[], T], *, timeout: float = DEADLINE_SECONDS, what: str = "the condition"
) -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s (last: {result!r})")
        pause.wait(0.01)
