"""A Secret volume laid out as the kubelet writes it, updated by swapping the ``..data`` link.

The kubelet's atomic writer keeps each version in a timestamped directory,
points ``..data`` at the current one, and exposes each key as a link through
``..data``; an update writes a new directory and renames a new ``..data`` link
over the old one, so the key's own link never changes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


class MountedSecret:
    """A directory holding one Secret key, ``token``, in the kubelet's layout."""

    def __init__(self, directory: Path, token: str) -> None:
        self.directory = directory
        self.version = 0
        directory.mkdir()
        self._write_version(token)
        (directory / "token").symlink_to(Path("..data") / "token")

    @property
    def path(self) -> Path:
        return self.directory / "token"

    def update(self, token: str) -> None:
        old = os.readlink(self.directory / "..data")
        self._write_version(token)
        shutil.rmtree(self.directory / old)

    def _write_version(self, token: str) -> None:
        self.version += 1
        name = f"..2026_03_04_10_00_0{self.version}.{self.version}"
        (self.directory / name).mkdir()
        (self.directory / name / "token").write_text(token)
        (self.directory / "..data_tmp").symlink_to(name)
        os.replace(self.directory / "..data_tmp", self.directory / "..data")
