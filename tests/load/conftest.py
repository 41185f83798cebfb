"""The load test's figures are printed in the terminal summary, so a passing run shows them too."""

from __future__ import annotations

from collections.abc import Callable

import pytest

FIGURES: list[str] = []


@pytest.fixture
def report_figures() -> Callable[[str], None]:
    """Keep a block of figures for the terminal summary (shown with or without ``-s``)."""

    def report(text: str) -> None:
        FIGURES.append(text)

    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("load figures")
        for text in FIGURES:
            terminalreporter.write_line(text)
