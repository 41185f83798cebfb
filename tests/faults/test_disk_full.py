"""Disk full under the SQLite file (issue 6): serve what is stored, say why, lose nothing else.

The data directory of a real ``license-service serve`` (sampling every second) is
a 4 MiB tmpfs; a filler file takes its last byte. While the disk is full the
service answers every report with the data it had (200, the same bodies),
``/health`` is DEGRADED and says the sample was not stored because the disk is
full, and the database passes SQLite's integrity check. Once the filler is
deleted, sampling resumes by itself, and the snapshot's ``data_condition.txt``
lists the lost interval as a gap, with its reason.

Unit-level companions show the same recording with the real sampler and a store
that fails a few transactions, and ``/health`` turning DEGRADED at the first sample
not stored (not only once samples have been missing for two intervals).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from license_service.metering.settings import MeteringSettings
from license_service.runtime.paths import DATABASE_FILE
from license_service.sampling.sampler import Sampler
from license_service.sampling.status import SamplerStatus
from license_service.store.database import Database, sqlite_url
from license_service.store.sampling_gaps import gaps
from license_service.web.probes.health import health_document
from tests.e2e.processes import ServiceProcess, eventually, run_cli, start_service
from tests.faults.process_snapshots import snapshot_gaps
from tests.faults.process_store_checks import (
    coverage_problems,
    peak_problems,
    sqlite_integrity_problems,
)
from tests.faults.process_tmpfs import fill, mounted_tmpfs
from tests.sampling.doubles import CLUSTER, START, FixedSource, FlakyDatabase, state

DATA_PATHS = ("/products", "/bundled_products", "/services", "/products?format=csv")
FULL_FOR = timedelta(seconds=4)
"""How long the disk stays full: several samples (one a second) are lost."""


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs for the data directory (skipped where mounting is not allowed)."""
    with mounted_tmpfs(tmp_path / "data", size_kib=4096) as directory:
        yield directory


def get(service: ServiceProcess, path: str) -> httpx.Response:
    return httpx.get(service.url + path, params={"token": service.token}, timeout=30)


def health(service: ServiceProcess) -> dict[str, Any]:
    response = get(service, "/health")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_full_disk_keeps_the_reports_says_why_and_shows_the_lost_interval_as_a_gap(
    tmp_path: Path, small_disk: Path, faults_signing_key: bytes
) -> None:
    key_file = small_disk / "signing-key.pem"
    key_file.write_bytes(faults_signing_key)
    key_file.chmod(0o600)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    service = start_service(run_dir, data_dir=small_disk)
    try:
        eventually(lambda: get(service, "/products").json(), within=15, what="a first sample")
        stored = {path: get(service, path).content for path in DATA_PATHS}

        fill(small_disk / "filler")

        def degraded_by_the_full_disk() -> dict[str, Any] | None:
            body = health(service)
            full = [warning for warning in body["warnings"] if "disk is full" in warning]
            return body if body["status"] == "DEGRADED" and full else None

        degraded = eventually(
            degraded_by_the_full_disk, within=10, what="/health saying the disk is full"
        )
        last_stored = datetime.fromisoformat(degraded["collector"]["lastSampleAt"])
        assert "was not stored" in degraded["warnings"][0]
        assert "database or disk is full" in degraded["collector"]["lastError"]
        while datetime.now(UTC) < last_stored + FULL_FOR:
            for path, body in stored.items():
                answer = get(service, path)
                assert (answer.status_code, answer.content) == (200, body), path
            assert get(service, "/status").status_code == 200
            assert httpx.get(f"{service.url}/livez").status_code == 200
            time.sleep(0.2)
        assert sqlite_integrity_problems(small_disk / DATABASE_FILE) == []
        assert health(service)["collector"]["lastSampleAt"] == degraded["collector"]["lastSampleAt"]

        (small_disk / "filler").unlink()
        freed_at = datetime.now(UTC)

        def sampling_again() -> bool:
            body = health(service)
            last = datetime.fromisoformat(body["collector"]["lastSampleAt"])
            return body["status"] == "OK" and last >= freed_at - timedelta(seconds=1)

        eventually(sampling_again, within=10, what="sampling resuming once space returned")
        text, reported = snapshot_gaps(service.url, service.token)
        lost = [gap for gap in reported if gap.covers(last_stored, last_stored + FULL_FOR)]
        assert lost, f"no gap covers {last_stored} + {FULL_FOR}:\n{text}"
        assert "not stored" in lost[0].reason
        assert "database or disk is full" in lost[0].reason
    finally:
        assert service.stop() == 0
    database = Database.open(sqlite_url(small_disk / DATABASE_FILE))
    try:
        assert peak_problems(database) + coverage_problems(database) == []
    finally:
        database.dispose()
    assert sqlite_integrity_problems(small_disk / DATABASE_FILE) == []


def test_ticks_that_cannot_store_leave_a_gap_whose_reason_is_stored_once_the_store_works(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = Database.open(sqlite_url(tmp_path / "store.db"))
    try:
        failing = FlakyDatabase(database)
        sampler = Sampler(
            FixedSource(state(observed_at=START + timedelta(minutes=30))),
            failing,
            settings=MeteringSettings,
            clock=lambda: START,
        )
        at = [START + timedelta(minutes=5 * step) for step in range(6)]
        assert sampler.take_sample(at[0]) == "sampled"
        failing.failures = 3
        with caplog.at_level(logging.CRITICAL):
            outcomes = [sampler.take_sample(instant) for instant in at[1:4]]
        assert outcomes == ["failed"] * 3
        assert "was not stored: database sqlite:///store.db: disk I/O error" in (
            sampler.status().last_error or ""
        )
        assert [sampler.take_sample(instant) for instant in at[4:]] == ["sampled"] * 2

        with database.read() as connection:
            found = gaps(connection, cluster_id=CLUSTER, start=at[0], end=at[5])
        assert [(gap.start, gap.end) for gap in found] == [(at[0], at[4])]
        assert found[0].reason == (
            "3 sample(s) from 2026-03-04T10:05:00Z to 2026-03-04T10:15:00Z not stored: "
            "database sqlite:///store.db: disk I/O error"
        )
    finally:
        database.dispose()


def test_health_is_degraded_as_soon_as_a_sample_is_not_stored() -> None:
    # The last sample is only one interval old: without the failed tick, health is OK.
    status = SamplerStatus(
        interval=timedelta(minutes=5),
        source="kubernetes",
        synced=True,
        last_tick_at=START + timedelta(minutes=5),
        last_outcome="failed",
        last_sample_at=START,
        last_error="the sample due at 2026-03-04T10:05:00Z was not stored: database "
        "sqlite:///store.db: (sqlite3.OperationalError) database or disk is full",
    )
    now = START + timedelta(minutes=5, seconds=2)
    source = state(observed_at=now)

    document = health_document(now=now, sampler=status, source=source, token_problem=None)
    recovered = health_document(
        now=now,
        sampler=dataclasses.replace(status, last_outcome="sampled", last_error=None),
        source=source,
        token_problem=None,
    )

    assert document["status"] == "DEGRADED"
    assert document["warnings"][0] == f"samples are missing: {status.last_error}"
    assert (recovered["status"], recovered["warnings"]) == ("OK", [])


def test_token_set_on_a_full_disk_exits_3_says_why_and_keeps_the_old_token(
    small_disk: Path,
) -> None:
    old = "Ab3dEf6hIj9kLm2nOp5qRs8t"
    assert run_cli("token", "set", "--data-dir", str(small_disk), old).returncode == 0
    fill(small_disk / "filler")

    finished = run_cli("token", "set", "--data-dir", str(small_disk), "Zy1xWv4uTs7rQp0oNm3lKj6i")

    assert finished.returncode == 3, finished.stderr
    assert finished.stderr == (
        f"license-service: error: cannot write {small_disk / 'api-token'}, the API token file: "
        "No space left on device; free some space on that disk (or raise the quota) and run "
        "the command again; nothing was changed\n"
    )
    assert (small_disk / "api-token").read_text() == f"{old}\n"
    assert sorted(path.name for path in small_disk.iterdir()) == ["api-token", "filler"]


def test_reasons_of_samples_lost_to_a_full_disk_survive_a_restart(
    tmp_path: Path, small_disk: Path, faults_signing_key: bytes
) -> None:
    # They were kept in memory only: a restart before the disk had room again lost them,
    # and the gap then said "no reason recorded".
    key_file = small_disk / "signing-key.pem"
    key_file.write_bytes(faults_signing_key)
    key_file.chmod(0o600)
    kept = small_disk / "unrecorded-misses.json"
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir()
    second_dir.mkdir()
    service = start_service(first_dir, data_dir=small_disk)
    try:
        eventually(lambda: get(service, "/products").json(), within=15, what="a first sample")
        fill(small_disk / "filler")

        def failures_kept() -> list[dict[str, Any]] | None:
            # Written in place on the full disk, beside instants a slow tick skipped.
            # (SQLite may still store a sample now and then, in write-ahead-log space it
            # owns; the reasons are then recorded at once and the count starts again.)
            text = kept.read_text().strip()  # spaces only until something is kept
            misses = json.loads(text)["missed"] if text else []
            failed = [miss for miss in misses if miss["kind"] == "failed"]
            return failed if failed and failed[-1]["count"] >= 2 else None

        eventually(failures_kept, within=30, what="failed ticks kept on the full disk")
        service.process.kill()  # no time to do anything else with what it holds in memory
        service.process.wait()
    finally:
        service.stop()
    miss = [miss for miss in json.loads(kept.read_text())["missed"] if miss["kind"] == "failed"][-1]
    first, last = datetime.fromisoformat(miss["first"]), datetime.fromisoformat(miss["last"])

    (small_disk / "filler").unlink()
    restarted = start_service(second_dir, data_dir=small_disk)
    try:
        assert "reason(s) of missed samples from before the restart" in restarted.log()
        eventually(
            lambda: kept.read_text().startswith('{"missed": []}'),
            within=10,
            what="the kept reasons recorded",
        )
        text, reported = snapshot_gaps(restarted.url, restarted.token)
    finally:
        assert restarted.stop() == 0, restarted.log()
    lost = [gap for gap in reported if gap.covers(first, last)]
    assert lost, f"no gap covers {first} to {last}:\n{text}"
    assert f"{miss['count']} sample(s) from " in lost[0].reason
    assert "not stored" in lost[0].reason
    assert "database or disk is full" in lost[0].reason
