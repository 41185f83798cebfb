"""PostgreSQL stopped and started again under a running service (issue 6).

A private PostgreSQL server (the shared one at 127.0.0.1:5432 is left alone) holds
the store of a real ``license-service serve`` sampling every second. While the
server is down, every data endpoint answers 503 with the SPEC's JSON error body
saying the database does not answer, ``/livez`` stays 200, ``/readyz`` is 503 and
``/health`` is DEGRADED saying the database does not answer. Once the server is
back the same process recovers by itself: the reports answer 200 with the data
they had, sampling resumes, ``/health`` is OK, and the snapshot's
``data_condition.txt`` lists the outage as a gap with its reason. The store left
behind holds consistent daily peaks and coverage.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from license_service.store.database import Database
from tests.e2e.processes import ServiceProcess, eventually, start_service
from tests.faults.process_postgres import private_postgres_or_skip
from tests.faults.process_snapshots import snapshot_gaps
from tests.faults.process_store_checks import coverage_problems, peak_problems

DATA_PATHS = ("/products", "/bundled_products", "/services", "/products?format=csv")
DOWN_FOR = timedelta(seconds=3)
"""How long the server stays down: several samples (one a second) are lost."""


def get(service: ServiceProcess, path: str) -> httpx.Response:
    return httpx.get(service.url + path, params={"token": service.token}, timeout=30)


def unavailable(service: ServiceProcess, path: str) -> httpx.Response | None:
    """The answer to ``path`` when it is a 503, else ``None``."""
    response = get(service, path)
    return response if response.status_code == 503 else None


def health(service: ServiceProcess) -> dict[str, Any]:
    response = get(service, "/health")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_stopped_database_answers_503_and_the_service_recovers_by_itself_recording_the_gap(
    tmp_path: Path, faults_signing_key: bytes
) -> None:
    with private_postgres_or_skip() as postgres:
        service = start_service(
            tmp_path,
            signing_key=faults_signing_key,
            extra=["--database-url", postgres.url],
        )
        try:
            eventually(lambda: get(service, "/products").json(), within=15, what="a first sample")
            stored = {path: get(service, path).content for path in DATA_PATHS}

            postgres.stop()
            stopped_at = datetime.now(UTC)
            for path in (*DATA_PATHS, "/status", "/snapshot"):
                # A body cached before the stop may be served until the next write attempt.
                answer = eventually(
                    lambda path=path: unavailable(service, path), within=5, what=f"{path} 503"
                )
                body = answer.json()
                assert (body["status"], body["error"]) == (503, "Service Unavailable")
                assert "(psycopg.OperationalError) connection failed" in body["message"]
                assert body["message"].endswith(
                    "retry in a moment, and see the service log if it persists"
                )
            assert httpx.get(f"{service.url}/livez").status_code == 200
            ready = httpx.get(f"{service.url}/readyz")
            assert ready.status_code == 503
            assert "not ready: the database does not answer" in ready.json()["message"]
            degraded = health(service)
            assert degraded["status"] == "DEGRADED"
            assert degraded["warnings"][0].startswith("the database does not answer: ")
            assert "samples cannot be stored" in degraded["warnings"][0]

            def samples_failing() -> dict[str, Any] | None:
                body = health(service)
                return body if "was not stored" in (body["collector"]["lastError"] or "") else None

            failing = eventually(samples_failing, within=10, what="a sample failing to store")
            last_stored = datetime.fromisoformat(failing["collector"]["lastSampleAt"])
            time.sleep(max(0.0, (stopped_at + DOWN_FOR - datetime.now(UTC)).total_seconds()))

            postgres.start()
            started_at = datetime.now(UTC)

            def recovered() -> bool:
                body = health(service)
                last = datetime.fromisoformat(body["collector"]["lastSampleAt"])
                return body["status"] == "OK" and last >= started_at - timedelta(seconds=1)

            eventually(recovered, within=15, what="the service recovering by itself")
            assert service.process.poll() is None, "the service restarted"
            for path, body in stored.items():
                answer = get(service, path)
                assert (answer.status_code, answer.content) == (200, body), path
            text, reported = snapshot_gaps(service.url, service.token)
            lost = [gap for gap in reported if gap.covers(last_stored, last_stored + DOWN_FOR)]
            assert lost, f"no gap covers {last_stored} + {DOWN_FOR}:\n{text}"
            assert "not stored" in lost[0].reason
            assert "connection failed" in lost[0].reason
            # An outage is expected: a one-line warning per failed sample, not a traceback.
            log = service.log()
            assert "failed; sampling continues at the next interval: " in log
            assert "Traceback" not in log
        finally:
            assert service.stop() == 0
        database = Database.open(postgres.url)
        try:
            assert peak_problems(database) + coverage_problems(database) == []
        finally:
            database.dispose()
