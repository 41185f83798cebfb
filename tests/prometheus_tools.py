"""Debian's ``prometheus`` and ``promtool`` (2.42) for the tests: found, or a clear skip.

Tests that need them call ``prometheus_tool(name)``: the path of the tool, or a skip
saying how to install it. ``LICENSE_SERVICE_REQUIRE_PROMETHEUS=1`` (CI sets it) turns
the skip into a failure, so CI never passes by skipping.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Final

import pytest

REQUIRE_VARIABLE: Final = "LICENSE_SERVICE_REQUIRE_PROMETHEUS"


def prometheus_tool(name: str) -> Path:
    """The path of ``prometheus`` or ``promtool``; skips (or fails, in CI) when absent."""
    found = shutil.which(name)
    if found is None:
        message = (
            f"{name} is not installed: install Debian's prometheus package "
            "(apt-get install prometheus) to run this test"
        )
        if os.environ.get(REQUIRE_VARIABLE) == "1":
            pytest.fail(f"{message} ({REQUIRE_VARIABLE}=1)")
        pytest.skip(message)
    return Path(found)


def promtool(
    *arguments: str | Path, stdin: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``promtool arguments``; the finished process (its output as text)."""
    return subprocess.run(
        [str(prometheus_tool("promtool")), *map(str, arguments)],
        input=stdin.decode("utf-8") if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
