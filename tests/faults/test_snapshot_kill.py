"""``kill -9`` during ``snapshot create``: the next run removes what the killed one left.

A real ``license-service snapshot create`` process is killed with SIGKILL while it
writes (as soon as its unfinished file appears in the output folder). The unfinished
file stays, under a name no finished snapshot has. After a minute (the file is aged
here) the next run removes it, says so, and writes a snapshot that verifies; files of
other programs in the folder are untouched.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from license_service.runtime.paths import DATABASE_FILE
from license_service.store.database import Database, sqlite_url
from tests.audit.conftest import TEST_KEY_FILE
from tests.audit.snapshot_data import store_golden_dataset
from tests.e2e.processes import run_cli

PERIOD = ("--from", "2026-11-01", "--to", "2026-11-03")
ATTEMPTS = 20


def create(data_dir: Path, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "license_service", "snapshot", "create", *PERIOD,
         "--data-dir", str(data_dir), "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def killed_while_writing(data_dir: Path, out: Path) -> list[Path]:
    """Start ``snapshot create`` and SIGKILL it once its unfinished file appears."""
    process = create(data_dir, out)
    try:
        while process.poll() is None:
            partial = list(out.glob(".*.partial"))
            if partial:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                return partial
        return []
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_kill_9_during_snapshot_create_leaves_a_file_the_next_run_removes(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    database = Database.open(sqlite_url(data_dir / DATABASE_FILE))
    try:
        store_golden_dataset(database)
    finally:
        database.dispose()
    shutil.copyfile(TEST_KEY_FILE, data_dir / "signing-key.pem")
    out = tmp_path / "out"
    out.mkdir()
    someone_elses = out / ".draft.zip.tmp"
    someone_elses.write_bytes(b"not ours")

    left: list[Path] = []
    for _ in range(ATTEMPTS):
        left += killed_while_writing(data_dir, out)
        if left:
            break
    assert left, f"no run was caught writing in {ATTEMPTS} attempts"
    assert all(path.exists() for path in left)
    earlier = time.time() - 120
    for path in [*left, someone_elses]:
        os.utime(path, (earlier, earlier))

    finished = run_cli("snapshot", "create", *PERIOD, "--data-dir", str(data_dir), "-o", str(out))

    assert finished.returncode == 0, finished.stderr
    for path in left:
        assert f"removed {path}" in finished.stdout
    [snapshot] = out.glob("*.zip")
    assert sorted(path.name for path in out.iterdir()) == sorted(
        [snapshot.name, someone_elses.name]
    )
    verified = run_cli("snapshot", "verify", str(snapshot))
    assert verified.returncode == 0, verified.stdout
