"""A small tmpfs to run out of space on, and a file that fills it.

``mounted_tmpfs`` mounts a tmpfs of the given size (``mount -t tmpfs``, which needs
root and mount permission: without them the test is skipped and says why) and
unmounts it afterwards, lazily if a process still holds a file in it.
``fill`` writes zeros into a file until the disk is full.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest

_CHUNK: Final = b"\0" * 4096


@contextlib.contextmanager
def mounted_tmpfs(directory: Path, *, size_kib: int) -> Iterator[Path]:
    """A tmpfs of ``size_kib`` KiB mounted (mode 0700) on ``directory``, created if needed."""
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("the disk-full test mounts a tmpfs: it needs root and the mount command")
    directory.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k,mode=0700", "tmpfs", str(directory)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(
            f"cannot mount a tmpfs on {directory} ({mounted.stderr.strip()}): the disk-full "
            "test needs permission to mount (root in a privileged container, or a VM)"
        )
    try:
        yield directory
    finally:
        unmounted = subprocess.run(["umount", str(directory)], capture_output=True, check=False)
        if unmounted.returncode != 0:
            subprocess.run(["umount", "-l", str(directory)], capture_output=True, check=True)


def fill(path: Path) -> int:
    """Write zeros to ``path`` until its disk is full; return the bytes written."""
    written = 0
    with path.open("wb", buffering=0) as filler:
        while True:
            try:
                written += filler.write(_CHUNK)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                return written
