"""Benchmark results: figures, checks against the issue's targets, and ``RESULTS.md``.

A benchmark returns a ``BenchmarkResult``: its figures (what was measured), its
checks (a ratio to a limit or baseline measured in the same run, or a figure next
to its target; ``met`` is ``None`` where the issue sets no target) and notes (what
limits it, what to change). ``print_result`` shows one on the console as soon as
it is done; ``results_markdown`` writes them all, with the machine and how to
reproduce, for ``bench/RESULTS.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured value."""

    label: str
    value: float
    unit: str


@dataclass(frozen=True, slots=True)
class Check:
    """A ratio or figure next to its target; ``met`` is ``None`` when there is no target."""

    label: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None


@dataclass(frozen=True, slots=True)
class BenchmarkResult:
    """What one benchmark found."""

    number: int
    title: str
    figures: tuple[Figure, ...]
    checks: tuple[Check, ...]
    notes: tuple[str, ...] = field(default=())
    seconds: float = 0.0


def at_least(label: str, value: float, minimum: float, unit: str) -> Check:
    """A check that ``value`` reaches ``minimum``."""
    return Check(label, value, unit, f">= {format_value(minimum, unit)}", value >= minimum)


def at_most(label: str, value: float, maximum: float, unit: str) -> Check:
    """A check that ``value`` stays within ``maximum``."""
    return Check(label, value, unit, f"<= {format_value(maximum, unit)}", value <= maximum)


def ratio(label: str, value: float) -> Check:
    """A ratio to a limit or baseline that the issue sets no target for."""
    return Check(label, value, "x")


def format_value(value: float, unit: str) -> str:
    """``value`` with a sensible number of digits, and its unit."""
    if unit == "x":
        return f"{value:.2f}x" if abs(value) >= 0.1 or value == 0 else f"{value:.2g}x"
    if unit == "%":
        return f"{value:.0f} %"
    magnitude = abs(value)
    if magnitude >= 100:
        text = f"{value:,.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    elif magnitude >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".strip()


def _met_text(met: bool | None) -> str:
    if met is None:
        return "(no target)"
    return "met" if met else "MISSED"


def print_result(result: BenchmarkResult) -> None:
    """Show ``result`` on the console."""
    print(f"\n{result.number}. {result.title}  ({result.seconds:.0f} s)")
    for figure in result.figures:
        print(f"   {figure.label}: {format_value(figure.value, figure.unit)}")
    for check in result.checks:
        target = f"  target {check.target}" if check.target else ""
        print(
            f"   -> {check.label}: {format_value(check.value, check.unit)}{target}"
            f"  {_met_text(check.met)}"
        )
    for note in result.notes:
        print(f"   note: {note}")


def results_markdown(
    results: Sequence[BenchmarkResult],
    *,
    machine: Mapping[str, str],
    command: str,
    total_seconds: float,
    scale: str,
    findings: str = "",
) -> str:
    """The text of ``bench/RESULTS.md``."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmark results",
        "",
        f"Written by `{command}` on {now} ({scale}; all benchmarks took "
        f"{total_seconds / 60:.1f} min). Every ratio is to a limit or baseline measured in "
        "the same run, on the same data, on this machine.",
        "",
        "## Machine",
        "",
        *(f"- {key}: {value}" for key, value in machine.items()),
        "",
        "## How to reproduce",
        "",
        "```",
        "make bench            # creates .venv like every target, runs all, rewrites this file",
        ".venv/bin/python -m bench --only 4,5   # some benchmarks only (console, no file)",
        "```",
        "",
        "Every benchmark runs its server and its measured side in separate processes "
        "(`bench/list_server.py`, `license-service serve`, `bench/load_generator.py`, "
        "a stdlib asyncio keep-alive client far cheaper per request than the server). "
        "PostgreSQL figures need the server at `LICENSE_SERVICE_POSTGRES_URL` (default "
        "`postgresql+psycopg://postgres@127.0.0.1:5432/test`), else they are skipped with "
        "a note. The machine is shared: the load averages above tell how busy it was.",
        "",
        "## Targets",
        "",
        "| benchmark | check | measured | target | |",
        "|---|---|---|---|---|",
    ]
    for result in results:
        for check in result.checks:
            if check.met is None:
                continue
            lines.append(
                f"| {result.number}. {result.title.split(' (')[0]} | {check.label} | "
                f"{format_value(check.value, check.unit)} | {check.target} | "
                f"{_met_text(check.met)} |"
            )
    if findings:
        lines += ["", findings.rstrip()]
    for result in results:
        lines += ["", f"## {result.number}. {result.title}", ""]
        lines += ["| figure | value |", "|---|---|"]
        lines += [
            f"| {figure.label} | {format_value(figure.value, figure.unit)} |"
            for figure in result.figures
        ]
        lines += [
            f"| **{check.label}** | **{format_value(check.value, check.unit)}**"
            + (f" (target {check.target}: {_met_text(check.met)})" if check.target else "")
            + " |"
            for check in result.checks
        ]
        if result.notes:
            lines.append("")
            lines += [f"- {note}" for note in result.notes]
    return "\n".join(lines) + "\n"
