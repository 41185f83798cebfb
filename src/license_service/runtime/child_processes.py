"""Child processes of the fleet demo: started together, watched, and stopped together.

Each child runs in a process group of its own, so the terminal's Ctrl+C reaches the
parent only, which then stops every child with ONE SIGTERM (a second signal would cut
a child's graceful stop short). On Linux each child is also told to receive SIGTERM if
the parent dies without stopping it (``PR_SET_PDEATHSIG``: a ``kill -9`` of the
parent leaves no orphan behind). Output goes to a log file per child (mode 0600: a
demo prints its token). A child that does not stop within ``STOP_SECONDS`` is killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Final

from license_service.runtime.fleet_demo_plan import FleetProcess

logger = logging.getLogger(__name__)

STOP_SECONDS: Final = 20.0
_PR_SET_PDEATHSIG: Final = 1


@dataclass
class ChildProcess:
    """A started child, its plan and its open log file."""

    plan: FleetProcess
    process: subprocess.Popen[bytes]
    log: IO[bytes]

    def exited(self) -> int | None:
        """Its exit code once it has exited, else ``None``."""
        return self.process.poll()

    def log_tail(self, lines: int = 15) -> str:
        """The last ``lines`` lines of its log, to say why it stopped."""
        try:
            text = self.plan.log_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def start_child(plan: FleetProcess) -> ChildProcess:
    """Start ``plan``'s process, its output in its log file (created mode 0600)."""
    plan.log_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(plan.log_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    log = os.fdopen(descriptor, "wb")
    try:
        process = subprocess.Popen(  # noqa: S603 (our own command line, no shell)
            plan.arguments,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **dict(plan.environment)},
            process_group=0,
            preexec_fn=_parent_death_signal(),  # noqa: PLW1509 (the parent runs no thread)
        )
    except BaseException:
        log.close()
        raise
    return ChildProcess(plan=plan, process=process, log=log)


def stop_children(children: Sequence[ChildProcess], *, wait: float = STOP_SECONDS) -> None:
    """SIGTERM every child still running, wait for all, kill the ones still there after
    ``wait`` seconds; close the logs."""
    running = [child for child in children if child.exited() is None]
    for child in running:
        with contextlib.suppress(ProcessLookupError):
            child.process.send_signal(signal.SIGTERM)
    for child in running:
        try:
            child.process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            logger.warning("%s did not stop within %g s: killed", child.plan.name, wait)
            child.process.kill()
            child.process.wait()
    for child in children:
        child.log.close()


def _parent_death_signal() -> Callable[[], None] | None:
    """A function run in the child before it starts: SIGTERM when the parent dies (Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    library = ctypes.util.find_library("c")
    if library is None:
        return None
    libc = ctypes.CDLL(library, use_errno=True)
    parent = os.getpid()

    def ask_for_sigterm() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:
            # The parent died before prctl took effect: nobody would stop this child.
            os.kill(os.getpid(), signal.SIGTERM)

    return ask_for_sigterm
