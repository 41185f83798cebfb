"""Running the real ``kubectl`` against a fake, as a second, independent client.

Each runner has its own kubeconfig and discovery cache directory, so runs against fakes on
different ports never share cached discovery.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

REQUIRE_KUBECTL_VARIABLE = "LICENSE_SERVICE_REQUIRE_KUBECTL"
_TIMEOUT_SECONDS = 60


class Kubectl:
    """``kubectl --kubeconfig <file> --cache-dir <dir> …`` with captured output."""

    def __init__(self, binary: str, kubeconfig: Path, cache_dir: Path) -> None:
        self.binary = binary
        self.kubeconfig = kubeconfig
        self.cache_dir = cache_dir

    def __call__(
        self,
        *arguments: str,
        stdin: str | None = None,
        check: bool = True,
        environment: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl; with ``check`` a non-zero exit raises with kubectl's stderr."""
        command = [
            self.binary,
            "--kubeconfig",
            str(self.kubeconfig),
            "--cache-dir",
            str(self.cache_dir),
            *arguments,
        ]
        completed = subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_SECONDS,
            check=False,
            env={**os.environ, **(environment or {})},
        )
        if check and completed.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(arguments)} exited {completed.returncode}:\n"
                f"{completed.stderr}{completed.stdout}"
            )
        return completed

    def run_plain(
        self, *arguments: str, environment: Mapping[str, str]
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl without ``--kubeconfig`` in ``environment`` alone (it finds its own)."""
        return subprocess.run(
            [self.binary, "--cache-dir", str(self.cache_dir), *arguments],
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_SECONDS,
            check=True,
            env=dict(environment),
        )


def find_kubectl() -> str | None:
    """The kubectl binary on PATH, or None."""
    return shutil.which("kubectl")


def kubectl_required() -> bool:
    """Whether a missing kubectl must fail the tests instead of skipping them."""
    return os.environ.get(REQUIRE_KUBECTL_VARIABLE) == "1"
