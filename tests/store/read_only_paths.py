"""Making a file or directory unwritable for the test process, whoever runs the tests.

An ordinary user loses write permission by ``chmod``; root ignores modes, so for root
the path is bind-mounted onto itself read-only (which root must obey), and unmounted
afterwards. Without permission to mount, the test is skipped and says why.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def unwritable(path: Path) -> Iterator[str]:
    """``path`` unwritable while in the block; yields why (``mode`` or ``read-only``)."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield "mode"
        finally:
            path.chmod(mode)
        return
    if shutil.which("mount") is None:
        pytest.skip("root ignores file modes, and without mount no read-only bind mount")
    for command in (
        ["mount", "--bind", str(path), str(path)],
        ["mount", "-o", "remount,bind,ro", str(path)],
    ):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            subprocess.run(["umount", str(path)], capture_output=True, check=False)
            pytest.skip(
                f"root ignores file modes, and a read-only bind mount failed: {done.stderr}"
            )
    try:
        yield "read-only"
    finally:
        subprocess.run(["umount", str(path)], capture_output=True, check=True)
