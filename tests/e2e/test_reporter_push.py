"""A real ``license-service serve`` pushing to a real HTTP Reporter (``fake_reporter``):
at start once the first sample is stored, the 30 days before and today, signed by the
service's own key; its state on /health and /metrics; a restart resumes from the day the
Reporter acknowledged; the token appears in no log line and no answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from license_service.signing.keys import SigningKey
from tests.e2e.conftest import Start
from tests.e2e.processes import DUMP, eventually, run_cli
from tests.reporting.fake_reporter import TOKEN, running_reporter


def _health(service: Any) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(
        f"{service.url}/health", params={"token": service.token}
    ).json()
    return body


def test_serve_pushes_to_the_reporter_and_resumes_after_a_restart(
    start: Start, tmp_path: Path, signing_key_pem: bytes
) -> None:
    token_file = tmp_path / "reporter-token"
    token_file.write_text(TOKEN + "\n")
    with running_reporter() as reporter:
        flags = ["--reporter-url", reporter.url, "--reporter-token-file", str(token_file)]
        service = start(extra=flags)
        eventually(lambda: reporter.pushes or None, within=20, what="a first push")
        today = datetime.now(UTC).date()
        [first] = reporter.pushes
        assert first.status == 200
        assert first.dates[0] == (today - timedelta(days=30)).isoformat()
        assert first.dates[-1] == today.isoformat()
        assert first.complete[-1] is False
        assert reporter.days[today.isoformat()].products, "today's usage was pushed"
        assert reporter.days[today.isoformat()].coverage.samples_taken >= 1

        sender = eventually(
            lambda: (
                _health(service).get("sender", {}).get("lastPushAt") and _health(service)["sender"]
            ),
            within=10,
            what="the sender section on /health",
        )
        yesterday = (today - timedelta(days=1)).isoformat()
        assert sender["reporterURL"] == reporter.url
        assert sender["acknowledgedThrough"] == yesterday
        assert sender["lastError"] is None
        metrics = httpx.get(service.metrics_url).text
        assert "license_service_reporter_last_push_timestamp_seconds" in metrics
        assert "license_service_reporter_push_failures_total 0.0" in metrics
        assert service.stop() == 0
        assert TOKEN not in service.log() + service.stdout()

        restarted = start(extra=flags)
        eventually(lambda: len(reporter.pushes) > 1 or None, within=20, what="a push after restart")
        assert reporter.pushes[1].dates == [today.isoformat()]
        page = httpx.get(f"{restarted.url}/status", params={"token": restarted.token}).text
        assert reporter.url in page
        assert TOKEN not in page
        assert restarted.stop() == 0
        assert TOKEN not in restarted.log() + restarted.stdout()
    # The fake Reporter verified every signature; it was made with the service's kept key.
    assert {push.key_fingerprint for push in reporter.pushes} == {
        SigningKey.from_pem(signing_key_pem).fingerprint
    }


def test_serve_refuses_a_reporter_url_without_a_token_file(tmp_path: Path) -> None:
    result = run_cli(
        "serve",
        "--data-dir",
        str(tmp_path / "data"),
        "--cluster-dump",
        str(DUMP),
        "--reporter-url",
        "https://reporter.example.com",
    )
    assert result.returncode == 2
    assert "--reporter-token-file" in result.stderr
