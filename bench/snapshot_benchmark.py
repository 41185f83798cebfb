"""Benchmark 7: an audit snapshot of every day of the history, next to zipping its rows alone.

The snapshot is written by ``bench.snapshot_process`` in its own interpreter (so
its peak memory is its own) from the history store of benchmark 6; the limit is
the same CSV bytes zipped with nothing else, in the same process, after it.
"""

from __future__ import annotations

import tempfile
import time
from datetime import timedelta
from typing import Final

from bench.history import HistoryStore
from bench.measurements import run_child
from bench.results import BenchmarkResult, Figure, at_most
from bench.scales import Scale
from license_service.signing.file_store import SIGNING_KEY_FILE

TIME_FACTOR_TARGET: Final = 2.0
EXTRA_MEMORY_TARGET_MIB: Final = 200.0


def run(scale: Scale, history: HistoryStore) -> BenchmarkResult:
    """Benchmark 7 at ``scale`` on ``history``."""
    del scale  # the history store carries the size
    started = time.perf_counter()
    first = history.last_day - timedelta(days=history.days - 1)
    with tempfile.TemporaryDirectory(prefix="license-service-bench-") as directory:
        result = run_child(
            "bench.snapshot_process",
            [
                f"--database-url={history.database_url}",
                f"--first-day={first.isoformat()}",
                f"--last-day={history.last_day.isoformat()}",
                f"--out-dir={directory}",
                f"--signing-key={history.data_dir / SIGNING_KEY_FILE}",
            ],
        )
    factor = result["snapshot_seconds"] / result["limit_seconds"]
    cpu_factor = result["snapshot_cpu_seconds"] / max(result["limit_cpu_seconds"], 1e-9)
    notes = [
        "write_snapshot reads the store and writes the CSV lines on one thread while "
        "another deflates them (zlib releases the GIL): with a second core free its time "
        "is below its CPU time; when every core is busy, time follows CPU time, "
        f"{cpu_factor:.2f}x the limit's.",
        "Extra memory is the peak resident memory (VmHWM) above what the process held "
        "just before the step"
        + (
            ", the peak restarted with /proc/self/clear_refs."
            if result["peak_reset"]
            else "; the kernel refused to restart the peak, so it is the peak since start."
        ),
    ]
    return BenchmarkResult(
        7,
        f"Audit snapshot of {history.days} days x {history.products:,} products",
        figures=(
            Figure("CSV rows in the snapshot", result["csv_rows"], "rows"),
            Figure("CSV bytes", result["csv_bytes"] / 1e6, "MB"),
            Figure("zip size", result["snapshot_bytes"] / 1e6, "MB"),
            Figure("write_snapshot", result["snapshot_seconds"], "s"),
            Figure("limit: the same CSV rows zipped, nothing else", result["limit_seconds"], "s"),
            Figure("write_snapshot: CPU time, every thread", result["snapshot_cpu_seconds"], "s"),
            Figure("limit: CPU time", result["limit_cpu_seconds"], "s"),
            Figure("write_snapshot: extra peak memory", result["snapshot_extra_mib"], "MiB"),
            Figure("limit: extra peak memory", result["limit_extra_mib"], "MiB"),
        ),
        checks=(
            at_most("snapshot time / limit", factor, TIME_FACTOR_TARGET, "x"),
            at_most(
                "snapshot extra memory",
                result["snapshot_extra_mib"],
                EXTRA_MEMORY_TARGET_MIB,
                "MiB",
            ),
        ),
        notes=tuple(notes),
        seconds=time.perf_counter() - started,
    )
