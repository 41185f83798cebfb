"""Token rotation fails closed whatever the grace period, and every duration flag is bounded.

Before, ``--token-grace-period 999999999999`` was accepted: at the first rotation the
end of the grace (now + 31,700 years) overflowed, the change was never applied, the
new token was never used and the old one stayed valid (issue 11.6). A number of
seconds too large for a ``timedelta`` crashed ``serve`` with a traceback.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from license_service.cli.app import build_app
from license_service.tokens.file_source import TokenFile
from license_service.tokens.file_store import write_token_file
from license_service.tokens.followed import MAX_GRACE_PERIOD
from tests.auth.clocks import FakeClock

DUMP = Path(__file__).parent.parent / "fixtures" / "dumps" / "cluster.json"
OLD = "Zq7mW2xK9pL4vR8tYb3N"
NEW = "Hc5Jd8Fs2Ga6Kl9Qw4Er"


def serve(tmp_path: Path, *flags: str) -> Any:
    args = ["serve", "--cluster-dump", str(DUMP), "--data-dir", str(tmp_path), *flags]
    return CliRunner().invoke(build_app(), args, env={"COLUMNS": "300"})


@pytest.mark.parametrize("seconds", ["604801", "999999999999", "100000000000000000000"])
def test_a_grace_period_over_seven_days_is_refused_naming_the_maximum(
    tmp_path: Path, seconds: str
) -> None:
    result = serve(tmp_path, "--token-grace-period", seconds)

    assert result.exit_code == 2
    assert "--token-grace-period" in result.stderr
    assert "604800" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert not (tmp_path / "api-token").exists()  # refused before anything was built


@pytest.mark.parametrize("flag", ["--sample-interval", "--startup-timeout"])
def test_no_duration_flag_crashes_on_a_number_too_large_for_a_clock(
    tmp_path: Path, flag: str
) -> None:
    result = serve(tmp_path, flag, "100000000000000000000")

    assert result.exit_code == 2
    assert flag in result.stderr
    assert "86400" in result.stderr


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 3, 4, 10, 0, tzinfo=UTC),
        datetime.max.replace(tzinfo=UTC) - timedelta(days=1),  # no grace can end after this
    ],
    ids=["ordinary", "near-the-end-of-time"],
)
def test_a_rotation_always_puts_the_new_token_in_force(tmp_path: Path, now: datetime) -> None:
    path = tmp_path / "token"
    write_token_file(path, OLD)
    clock = FakeClock(now)
    tokens = TokenFile(path, generate_if_missing=False, grace_period=MAX_GRACE_PERIOD, clock=clock)

    write_token_file(path, NEW)
    tokens.refresh()
    accepted = tokens.current().tokens
    if accepted == (NEW, OLD):
        clock.advance(MAX_GRACE_PERIOD.total_seconds())
    after_grace = tokens.current().tokens

    assert accepted[0] == NEW
    assert accepted in ((NEW, OLD), (NEW,))  # the old one only within a grace that can end
    assert after_grace == (NEW,)
