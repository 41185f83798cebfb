"""A private PostgreSQL server a test may stop and start, leaving the shared one alone.

``PrivatePostgres`` runs ``initdb`` and ``pg_ctl`` of the installed PostgreSQL as
the ``postgres`` OS user (``initdb`` refuses root; ``runuser`` switches user) in a
temporary directory, on a free port of 127.0.0.1 with trust authentication and no
fsync (a test server). ``private_postgres_or_skip`` skips the test with the reason
when that is not possible here (no binaries, no ``runuser``, not root), or fails it
when ``LICENSE_SERVICE_REQUIRE_POSTGRES=1``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest

from tests.e2e.processes import free_port

REQUIRE_POSTGRES_VARIABLE: Final = "LICENSE_SERVICE_REQUIRE_POSTGRES"
_BINARIES: Final = "/usr/lib/postgresql/*/bin"
_OS_USER: Final = "postgres"
_COMMAND_TIMEOUT: Final = 60


class PrivatePostgres:
    """A PostgreSQL server of one test, in ``directory``, listening on ``port``."""

    def __init__(self, binaries: Path, directory: Path, port: int) -> None:
        self.binaries = binaries
        self.directory = directory
        self.port = port

    @property
    def url(self) -> str:
        """The URL of its ``postgres`` database, as ``serve --database-url`` takes it."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def initialise(self) -> None:
        """Create the cluster's files (``initdb``)."""
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self, *, mode: str = "fast") -> None:
        """Stop the server (``fast``: cut the connections; ``immediate``: like a crash)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        """Whether the server runs (``pg_ctl status``)."""
        status = subprocess.run(
            self._command("pg_ctl", "-D", str(self.data), "status"),
            capture_output=True,
            check=False,
            timeout=_COMMAND_TIMEOUT,
        )
        return status.returncode == 0

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    def _command(self, program: str, *arguments: str) -> list[str]:
        return ["runuser", "-u", _OS_USER, "--", str(self.binaries / program), *arguments]

    def _run(self, program: str, *arguments: str) -> None:
        done = subprocess.run(
            self._command(program, *arguments),
            capture_output=True,
            text=True,
            check=False,
            timeout=_COMMAND_TIMEOUT,
        )
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise AssertionError(
                f"{program} {' '.join(arguments)} failed ({done.returncode}):\n"
                f"{done.stdout}{done.stderr}{log}"
            )


def _problem() -> tuple[str | None, Path | None]:
    """Why a private server cannot run here, or the directory of its binaries."""
    found = sorted(glob.glob(f"{_BINARIES}/initdb"))
    if not found:
        return f"no PostgreSQL server binaries ({_BINARIES}/initdb)", None
    if shutil.which("runuser") is None:
        return "no runuser command to run initdb as the postgres user", None
    if os.geteuid() != 0:
        return "not root: runuser cannot switch to the postgres user", None
    try:
        pwd.getpwnam(_OS_USER)
    except KeyError:
        return f"no {_OS_USER!r} OS user to run the server as", None
    return None, Path(found[-1]).parent


@contextlib.contextmanager
def private_postgres_or_skip() -> Iterator[PrivatePostgres]:
    """A started private server, stopped and removed afterwards; skips when impossible."""
    problem, binaries = _problem()
    if problem is not None or binaries is None:
        message = f"a private PostgreSQL server cannot run here: {problem}"
        if os.environ.get(REQUIRE_POSTGRES_VARIABLE) == "1":
            pytest.fail(f"{message} ({REQUIRE_POSTGRES_VARIABLE}=1)")
        pytest.skip(message)
    # Not under pytest's tmp_path: the postgres user must reach it, and its parents are 0700.
    directory = Path(tempfile.mkdtemp(prefix="license-service-postgres-"))
    shutil.chown(directory, user=_OS_USER)
    server = PrivatePostgres(binaries, directory, free_port())
    try:
        server.initialise()
        server.start()
        yield server
    finally:
        if server.running():
            server.stop(mode="immediate")
        shutil.rmtree(directory, ignore_errors=True)
