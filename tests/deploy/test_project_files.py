"""The first files a new user meets: pyproject.toml builds quietly, `make run` takes options."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tomllib
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent.parent
# setuptools reads the SPDX string form of ``project.license`` from this version on.
SPDX_LICENSE_SETUPTOOLS = (77,)


def _pyproject() -> dict[str, object]:
    return tomllib.loads((REPOSITORY / "pyproject.toml").read_text())


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_the_license_is_an_spdx_string_so_setuptools_does_not_warn() -> None:
    project = _pyproject()["project"]
    assert isinstance(project, dict)

    assert project["license"] == "Apache-2.0"


def test_the_build_requires_a_setuptools_that_reads_the_spdx_license() -> None:
    build_system = _pyproject()["build-system"]
    assert isinstance(build_system, dict)
    (setuptools,) = [
        requirement
        for requirement in build_system["requires"]
        if re.match(r"setuptools\b", requirement)
    ]
    minimum = re.search(r">=\s*([\d.]+)", setuptools)

    assert minimum is not None, f"{setuptools!r} names no minimum version"
    assert _version(minimum.group(1)) >= SPDX_LICENSE_SETUPTOOLS


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_passes_args_to_the_demo() -> None:
    dry_run = subprocess.run(
        ["make", "--dry-run", "--always-make", "run", "ARGS=--port 8090 --metrics-port 0"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
    )

    (demo,) = [line for line in dry_run.stdout.splitlines() if "license-service demo" in line]
    assert "license-service demo --port 8090 --metrics-port 0" in demo


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.skipif(
    not (REPOSITORY / ".venv" / "bin" / "license-service").exists(),
    reason="no .venv in the repository (`make install` creates it)",
)
def test_make_run_on_a_taken_port_says_how_to_pass_another(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # --assume-old: never reinstall the virtual environment from inside a test.
        returncode, stderr = _run_make(
            "--no-print-directory",
            "--assume-old=.venv/.installed",
            "run",
            f"ARGS=--port {port} --metrics-port 0 --data-dir {tmp_path / 'data'}",
        )

    assert returncode == 2, stderr
    assert f"cannot listen on 127.0.0.1:{port}" in stderr
    assert 'make run ARGS="--port ' in stderr


def _run_make(*arguments: str) -> tuple[int, str]:
    """Run ``make`` in the repository; a demo that started after all is stopped, and fails."""
    process = subprocess.Popen(
        ["make", *arguments],
        cwd=REPOSITORY,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        process.communicate(timeout=30)
        pytest.fail("make run did not stop: the demo started instead of refusing the port")
    return process.returncode, stderr
