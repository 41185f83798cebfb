"""A real ``license-service serve`` started on a store that already holds earlier days: its
first push waits for the first sample of this run (SPEC 11: "at start, once the first
sample is stored"), so today's current usage reaches the Reporter at start, not with the
next hourly push."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.e2e.conftest import Start
from tests.e2e.processes import eventually
from tests.e2e.stored_history import MQ_ID, MQ_TODAY, write_history
from tests.reporting.fake_reporter import TOKEN, running_reporter


def test_a_restart_on_stored_days_pushes_today_with_its_current_usage(
    start: Start, tmp_path: Path
) -> None:
    today = datetime.now(UTC).date()
    write_history(tmp_path / "data", {today - timedelta(days=2): 9, today - timedelta(days=1): 6})
    token_file = tmp_path / "reporter-token"
    token_file.write_text(TOKEN + "\n")
    with running_reporter() as reporter:
        start(extra=["--reporter-url", reporter.url, "--reporter-token-file", str(token_file)])
        eventually(lambda: reporter.pushes or None, within=20, what="a first push")
        # The next push is an hour away: this is what the Reporter holds for today until then.
        [first] = reporter.pushes
        assert first.status == 200
        assert first.dates[-1] == today.isoformat()
        pushed_today = {(row.id, row.quantity) for row in reporter.days[today.isoformat()].products}
        assert (MQ_ID, MQ_TODAY) in pushed_today, "today's usage was not in the push at start"
        assert reporter.days[today.isoformat()].coverage.samples_taken >= 1
        yesterday = reporter.days[(today - timedelta(days=1)).isoformat()]
        assert [(row.id, row.quantity) for row in yesterday.products] == [(MQ_ID, 6)]
