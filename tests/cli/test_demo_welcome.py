"""The demo's welcome: the first lines a new user reads after ``make run``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from license_service.cli.app import build_app
from license_service.cli.demo_command import welcome_summary


def _nested_parentheses(text: str) -> bool:
    depth = 0
    for character in text:
        depth += {"(": 1, ")": -1}.get(character, 0)
        if depth > 1:
            return True
    return False


@pytest.mark.parametrize("stored", [0, 1, 2161])
def test_the_welcome_summary_never_nests_parentheses(stored: int) -> None:
    summary = welcome_summary(cluster_id="demo-uid", days=90, stored=stored, interval_seconds=300)

    assert not _nested_parentheses(summary), summary


def test_a_restart_says_the_history_is_already_stored() -> None:
    summary = welcome_summary(cluster_id="demo-uid", days=90, stored=0, interval_seconds=300)

    assert "already in the store" in summary
    assert "a new sample every 300 s" in summary


def test_a_first_run_says_how_many_samples_were_stored() -> None:
    summary = welcome_summary(cluster_id="demo-uid", days=90, stored=2161, interval_seconds=300)

    assert re.search(r"\b2161 samples of history stored\b", summary)


@pytest.mark.parametrize("days", ["-1", "732", "100000000000000000000"])
def test_history_beyond_what_the_store_keeps_is_refused_naming_the_range(
    days: str, tmp_path: Path
) -> None:
    # 10**20 days overflowed the date arithmetic with a traceback; 731 days is retention.
    result = CliRunner().invoke(
        build_app(), ["demo", "--history-days", days, "--data-dir", str(tmp_path / "demo")]
    )

    said = " ".join(result.output.replace("│", " ").split())
    assert result.exit_code == 2
    assert "Invalid value for '--history-days'" in said
    assert re.search(r"than or equal to (0|731)\b", said)
    assert "Traceback" not in said
    assert not (tmp_path / "demo").exists()
