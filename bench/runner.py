"""Run the benchmarks in order, print each as it ends, and write ``RESULTS.md``.

``run_benchmarks(scale, only=...)`` runs benchmarks 1-4 (one cluster, see
``cluster_benchmarks``), 5 (store), 6-7 on one history store filled once, 8 (a sample
with chargeback groups, ``chargeback_benchmark``) and 9-10 (usage explanations: the
cost of keeping them, ``/usage_explained`` under load), 11 (the upload API) and 12 (a
fleet pushed into the Reporter on PostgreSQL, ``fleet_benchmark``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Final

from bench import (
    api_benchmark,
    chargeback_benchmark,
    cluster_benchmarks,
    explained_api_benchmark,
    explanation_benchmark,
    fleet_benchmark,
    snapshot_benchmark,
    store_benchmark,
    upload_benchmark,
)
from bench.findings import FINDINGS
from bench.history import HistoryStore
from bench.measurements import ROOT, machine_description
from bench.results import BenchmarkResult, print_result, results_markdown
from bench.scales import FULL, SMOKE, Scale

RESULTS_FILE: Final = ROOT / "bench" / "RESULTS.md"
ALL: Final = frozenset(range(1, 13))


def run_benchmarks(
    scale: Scale,
    *,
    only: Collection[int] = ALL,
    report: Callable[[BenchmarkResult], None] = print_result,
) -> list[BenchmarkResult]:
    """Run the benchmarks numbered in ``only`` at ``scale``; ``report`` each as it ends."""
    results: list[BenchmarkResult] = []

    def keep(result: BenchmarkResult) -> None:
        results.append(result)
        report(result)

    if {1, 2, 3, 4} & set(only):
        for result in cluster_benchmarks.run(scale):
            if result.number in only:
                keep(result)
    if 5 in only:
        keep(store_benchmark.run(scale))
    if {6, 7} & set(only):
        with HistoryStore(products=scale.products, days=scale.days) as history:
            if 6 in only:
                keep(api_benchmark.run(scale, history))
            if 7 in only:
                keep(snapshot_benchmark.run(scale, history))
    if 8 in only:
        keep(chargeback_benchmark.run(scale))
    if 9 in only:
        keep(explanation_benchmark.run(scale))
    if 10 in only:
        keep(explained_api_benchmark.run(scale))
    if 11 in only:
        keep(upload_benchmark.run(scale))
    if 12 in only:
        keep(fleet_benchmark.run(scale))
    return results


def _load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def main(argv: list[str] | None = None) -> None:
    """``python -m bench [--smoke] [--only 1,2] [--output FILE]``."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (seconds, not minutes)")
    parser.add_argument(
        "--only", default="", help="comma-separated benchmark numbers (default: all)"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help=f"where to write the results (default: {RESULTS_FILE.relative_to(ROOT)} when "
        "every benchmark runs at full size, else nowhere)",
    )
    parser.add_argument(
        "--fleet-clusters",
        type=int,
        default=None,
        help="benchmark 12: clusters in the fleet (default: 500; smoke: 3)",
    )
    parser.add_argument(
        "--fleet-days",
        type=int,
        default=None,
        help="benchmark 12: days each cluster pushes (default: 731; smoke: 40)",
    )
    arguments = parser.parse_args(argv)
    scale = SMOKE if arguments.smoke else FULL
    fleet = {
        "fleet_clusters": arguments.fleet_clusters,
        "fleet_days": arguments.fleet_days,
    }
    changed = {name: value for name, value in fleet.items() if value is not None}
    if any(value < 1 for value in changed.values()):
        parser.error("--fleet-clusters and --fleet-days must be 1 or more")
    if changed:
        scale = dataclasses.replace(
            scale,
            name=f"{scale.name} (fleet: "
            + ", ".join(f"{name.split('_')[1]} {value}" for name, value in changed.items())
            + ")",
            **changed,
        )
    only = {int(number) for number in arguments.only.split(",") if number.strip()} or set(ALL)
    output = arguments.output
    if output is None and not arguments.smoke and only == ALL and not changed:
        output = RESULTS_FILE
    machine = machine_description()
    load_before = _load_average()
    print(f"Benchmarks at {scale.name}; machine: {machine['cpu']}, load {load_before}")
    started = time.perf_counter()
    results = run_benchmarks(scale, only=only)
    total = time.perf_counter() - started
    machine["load average (1/5/15 min) before / after"] = f"{load_before}  /  {_load_average()}"
    print(f"\nAll benchmarks: {total / 60:.1f} min")
    if output is not None:
        command = "make bench" if output == RESULTS_FILE else "python -m bench"
        output.write_text(
            results_markdown(
                results,
                machine=machine,
                command=command,
                total_seconds=total,
                scale=scale.name,
                findings=FINDINGS,
            )
        )
        print(f"Results written to {output}")
