"""One server per data directory (issue 12.10), with real processes.

A second ``serve`` or ``demo`` on a data directory in use refuses to start (exit code
2) naming the first one's pid; so does a server of another data directory given the
same SQLite ``--database-url``; a server killed with SIGKILL leaves no stale lock; the
token and snapshot commands keep working beside a running server.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Start
from tests.e2e.processes import DUMP, ServiceProcess, eventually, free_port, run_cli

# A refusal comes before anything heavy; a server that starts instead is stopped then.
REFUSAL_TIMEOUT = 30.0


def _second(command: str, data_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run ``license-service <command>`` on ``data_dir`` and wait for its refusal."""
    arguments = [
        sys.executable,
        "-m",
        "license_service",
        command,
        "--host",
        "127.0.0.1",
        "--port",
        str(free_port()),
        "--metrics-port",
        str(free_port()),
        "--data-dir",
        str(data_dir),
        *extra,
    ]
    process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = process.communicate(timeout=REFUSAL_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        pytest.fail(f"a second `{command}` ran beside the first on {data_dir}:\n{stdout}\n{stderr}")
    return subprocess.CompletedProcess(arguments, process.returncode, stdout, stderr)


def _serving(service: ServiceProcess) -> bool:
    return httpx.get(f"{service.url}/livez", timeout=5).status_code == 200


def test_a_second_server_on_a_data_directory_refuses_to_start_naming_the_first(
    start: Start,
) -> None:
    first = start()

    second = _second("serve", first.data_dir, "--cluster-dump", str(DUMP))

    assert second.returncode == 2
    assert f"data directory {first.data_dir} is in use by another License Service" in (
        second.stderr
    )
    assert f"(pid {first.process.pid}, started " in second.stderr
    assert "give this one another --data-dir" in second.stderr
    assert "Traceback" not in second.stderr
    assert _serving(first)


def test_the_demo_refuses_the_data_directory_of_a_running_server(start: Start) -> None:
    first = start()

    second = _second("demo", first.data_dir, "--history-days", "1")

    assert second.returncode == 2
    assert f"(pid {first.process.pid}, started " in second.stderr
    assert _serving(first)


def test_a_server_killed_with_sigkill_leaves_no_stale_lock(start: Start) -> None:
    first = start()
    first.process.kill()
    first.process.wait()
    written = json.loads((first.data_dir / "license-service.lock").read_text())
    assert written["pid"] == first.process.pid

    again = start(data_dir=first.data_dir)

    assert _serving(again)
    written = json.loads((first.data_dir / "license-service.lock").read_text())
    assert written["pid"] == again.process.pid
    assert again.stop() == 0
    # A clean stop empties the file: no pid of a process that is gone is left to mislead.
    assert (first.data_dir / "license-service.lock").read_text() == ""


def test_token_and_snapshot_commands_work_beside_a_running_server(
    start: Start, tmp_path: Path
) -> None:
    server = start()
    eventually(
        lambda: httpx.get(f"{server.url}/products", params={"token": server.token}).json(),
        within=10,
        what="a first sample in /products",
    )
    data_dir = str(server.data_dir)

    assert run_cli("token", "get", "--data-dir", data_dir).stdout.strip() == server.token
    today = datetime.now(UTC).date().isoformat()
    snapshot = run_cli(
        "snapshot", "create", "--from", today, "--to", today, "--data-dir", data_dir,
        "-o", str(tmp_path),
    )  # fmt: skip
    assert snapshot.returncode == 0, snapshot.stderr
    generated = run_cli("token", "generate", "--data-dir", data_dir)
    assert generated.returncode == 0, generated.stderr
    new_token = generated.stdout.strip()

    # Waiting on the log, not by asking with the new token: asks before the server reads the
    # file are failed attempts, and many of them lock this client out (429) by design.
    eventually(
        lambda: "changed; the previous token is refused" in server.log(),
        within=10,
        what="the server taking the token generated beside it",
    )
    taken = httpx.get(f"{server.url}/products", params={"token": new_token})
    assert taken.status_code == 200, taken.text


def test_a_second_data_directory_on_the_sqlite_database_in_use_refuses_to_start(
    start: Start, tmp_path: Path
) -> None:
    database = tmp_path / "same.db"
    url = f"sqlite:///{database}"
    first = start(extra=["--database-url", url])
    other_dir = tmp_path / "other-data"

    second = _second("serve", other_dir, "--cluster-dump", str(DUMP), "--database-url", url)

    assert second.returncode == 2, second.stderr
    assert f"SQLite database {database} is in use by another License Service" in second.stderr
    assert f"(pid {first.process.pid}, started " in second.stderr
    assert "give this one its own --database-url" in second.stderr
    assert "Traceback" not in second.stderr
    assert _serving(first)
    # The lock is a file beside the database, never the SQLite file itself.
    held = json.loads((tmp_path / "same.db.lock").read_text())
    assert held["pid"] == first.process.pid
    # Reading the database beside the server still works, from the other directory too.
    today = datetime.now(UTC).date().isoformat()
    snapshot = run_cli(
        "snapshot", "create", "--from", today, "--to", today, "--data-dir", str(other_dir),
        "--database-url", url, "-o", str(tmp_path),
    )  # fmt: skip
    assert snapshot.returncode == 0, snapshot.stderr

    assert first.stop() == 0
    # Once the first has stopped, the database is free for the other directory.
    again = start(data_dir=other_dir, extra=["--database-url", url])
    assert _serving(again)
