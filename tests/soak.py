"""Sizes for suites with a long version: short in ``make test``, long under ``make soak``."""

from __future__ import annotations

import os
from typing import TypeVar

T = TypeVar("T")

SOAK = os.environ.get("LICENSE_SERVICE_SOAK") == "1"
"""True under ``make soak`` (LICENSE_SERVICE_SOAK=1): run the long version."""


def soak_or(short: T, long: T) -> T:
    """Return ``long`` under ``make soak``, else ``short``."""
    return long if SOAK else short
