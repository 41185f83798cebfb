"""What every benchmark measures with: clocks, resident memory, the machine, child processes.

Memory comes from ``/proc/self/status``: ``VmHWM`` is the peak resident set of the
process so far, ``VmRSS`` the resident set now. ``reset_peak_memory`` asks Linux to
start the peak over (``/proc/self/clear_refs``), so one process can measure the peak
of several steps in turn; where that is refused the peak since start is reported.
Child processes print one JSON line last on their standard output (``emit``), which
``run_child`` parses.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

MIB: Final = 1024 * 1024
ROOT: Final = Path(__file__).resolve().parent.parent
CHILD_TIMEOUT_SECONDS: Final = 900.0


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field} line: memory cannot be measured here")


def peak_rss_mib() -> float:
    """The peak resident memory of this process (``VmHWM``), in MiB."""
    return _status_kib("VmHWM") / 1024


def rss_mib() -> float:
    """The resident memory of this process now (``VmRSS``), in MiB."""
    return _status_kib("VmRSS") / 1024


def reset_peak_memory() -> bool:
    """Start ``VmHWM`` over from the current resident set; ``False`` when Linux refuses."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def timed(action: Callable[[], object]) -> float:
    """Seconds ``action`` takes (``perf_counter``)."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median_seconds(action: Callable[[], object], *, repeats: int) -> float:
    """The median of ``repeats`` timings of ``action``."""
    return statistics.median(timed(action) for _ in range(max(1, repeats)))


def machine_description() -> dict[str, str]:
    """CPU model and count, memory, OS and Python: what the figures were measured on."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kib = int(meminfo.read_text().split()[1])
        memory = f"{total_kib / MIB:.1f} GiB"
    return {
        "cpu": f"{model}, {os.cpu_count()} logical CPUs",
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
    }


def emit(result: dict[str, Any]) -> None:
    """Print a child process's result: one JSON line, last on standard output."""
    print(json.dumps(result), flush=True)


def run_child(
    module: str, arguments: Sequence[str], *, timeout: float = CHILD_TIMEOUT_SECONDS
) -> dict[str, Any]:
    """Run ``python -m module arguments`` in a fresh interpreter; return the JSON it emits.

    Its standard error passes through (progress), a failure raises with its output;
    it may take ``timeout`` seconds.
    """
    completed = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", module, *arguments],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        raise RuntimeError(
            f"benchmark process {module} {' '.join(arguments)} failed with exit code "
            f"{completed.returncode}; its output:\n{completed.stdout[-4000:]}"
        )
    result: dict[str, Any] = json.loads(lines[-1])
    return result
