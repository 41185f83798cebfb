"""Crash safety (issue 6): ``kill -9`` at random moments loses no committed sample.

A real ``license-service serve`` samples a dump whose usage changes every few
tenths of a second, once a second, into a real SQLite file, while clients ask
for every report, the status page and snapshots. At a random moment after it has
stored a sample it is killed with SIGKILL, checked, and started again, over and
over (``make test``: 5 kills; ``make soak``: 50). After every kill:

- SQLite's ``integrity_check`` says ok and ``foreign_key_check`` finds nothing;
- every daily peak equals the highest stored sample of its day, and the coverage
  counts exactly the stored samples;
- every sample ``/health`` reported as stored (``lastSampleAt``) before the kill is
  there, and no peak ``/products`` reported has been lowered;
- the service starts again on that file, serves, and samples again.

No answer of the service may be a 5xx meanwhile. The random moments come from a
seed printed in every failure message. The same runs against PostgreSQL (a fresh
schema of the shared test server; 1 kill, 10 under ``make soak``) check the same
rules but SQLite's pragmas (PostgreSQL enforces its foreign keys itself).
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import pytest

from license_service.runtime.paths import DATABASE_FILE
from license_service.store.database import Database, sqlite_url
from tests.e2e.processes import start_service
from tests.faults.process_cluster_dumps import ChangingDump
from tests.faults.process_store_checks import (
    coverage_problems,
    lowered_peaks,
    missing,
    peak_problems,
    sqlite_integrity_problems,
    stored_sample_instants,
)
from tests.faults.process_traffic import Traffic
from tests.soak import soak_or
from tests.store.conftest import fresh_postgres_schema, postgres_url_or_skip

SQLITE_KILLS = soak_or(5, 50)
POSTGRES_KILLS = soak_or(1, 10)
# Kill anywhere in the next one and a half sampling intervals (1 s each).
LONGEST_WAIT_BEFORE_KILL = 1.5


def store_problems(
    database_url: str,
    *,
    committed: set[datetime],
    reported: Mapping[tuple[str, str, str], int],
) -> list[str]:
    """Everything wrong with the store a killed service left, as sentences."""
    database = Database.open(database_url)
    try:
        problems = peak_problems(database)
        problems += coverage_problems(database)
        problems += [
            f"sample reported as stored is missing: {instant}"
            for instant in missing(committed, stored_sample_instants(database))
        ]
        problems += lowered_peaks(database, reported)
    finally:
        database.dispose()
    return problems


def kill_again_and_again(
    tmp_path: Path,
    signing_key: bytes,
    *,
    kills: int,
    database_url: str | None = None,
) -> str:
    """Start, load, kill -9 and check ``kills`` times, then stop cleanly; return the figures."""
    seed = random.randrange(2**32)
    moments = random.Random(seed)
    data_dir = tmp_path / "data"
    sqlite_file = data_dir / DATABASE_FILE
    url = database_url or sqlite_url(sqlite_file)
    extra = ["--database-url", database_url] if database_url else []
    committed: set[datetime] = set()
    reported: dict[tuple[str, str, str], int] = {}
    answers = 0
    with ChangingDump(tmp_path / "cluster.json", seed=seed) as dump:
        for run in range(kills + 1):
            run_dir = tmp_path / f"run-{run}"
            run_dir.mkdir()
            service = start_service(
                run_dir, dumps=[dump.path], data_dir=data_dir, signing_key=signing_key, extra=extra
            )
            try:
                with Traffic(service.url, service.token) as traffic:
                    # Sampling resumes after every restart.
                    traffic.wait_for_sample_after(max(committed, default=None), within=20)
                    if run < kills:
                        time.sleep(moments.uniform(0, LONGEST_WAIT_BEFORE_KILL))
                        service.process.kill()
                        service.process.wait()
            finally:
                exit_code = service.stop()
            committed |= traffic.committed
            for key, quantity in traffic.reported_peaks.items():
                reported[key] = max(reported.get(key, 0), quantity)
            answers += sum(traffic.answers.values())
            where = f"after kill {run + 1} of {kills} (seed {seed})"
            assert traffic.server_errors == [], f"{where}: 5xx answers"
            assert run < kills or exit_code == 0, f"{where}: {service.log()}"
            problems = sqlite_integrity_problems(sqlite_file) if database_url is None else []
            problems += store_problems(url, committed=committed, reported=reported)
            assert problems == [], f"{where}: {problems}"

    database = Database.open(url)
    try:
        stored = len(stored_sample_instants(database))
    finally:
        database.dispose()
    return (
        f"{kills} kills (seed {seed}), {answers} answers, {len(committed)} samples reported "
        f"as stored, all present; {stored} samples stored; 0 lost; store consistent after "
        "every kill"
    )


@pytest.mark.soak
def test_kill_9_at_random_moments_loses_no_committed_sample_and_keeps_sqlite_intact(
    tmp_path: Path, faults_signing_key: bytes
) -> None:
    figures = kill_again_and_again(tmp_path, faults_signing_key, kills=SQLITE_KILLS)
    print(f"\ncrash safety (SQLite): {figures}, integrity_check ok")  # quoted in RELIABILITY.md


@pytest.mark.soak
@pytest.mark.postgres
def test_kill_9_at_random_moments_loses_no_committed_sample_on_postgresql(
    tmp_path: Path, faults_signing_key: bytes
) -> None:
    with fresh_postgres_schema(postgres_url_or_skip()) as url:
        figures = kill_again_and_again(
            tmp_path, faults_signing_key, kills=POSTGRES_KILLS, database_url=url
        )
    print(f"\ncrash safety (PostgreSQL): {figures}")  # quoted in RELIABILITY.md
