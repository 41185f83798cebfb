"""``license-service demo --clusters 3`` as a real process: a Reporter and three simulated
clusters, each a process of its own; the Reporter lists the three at once with their
pushed history, its ``/products`` of a day is the sum of the clusters' own ``/products``
of that day, and SIGTERM to the demo stops every child (none left behind)."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.processes import STOP_TIMEOUT, eventually, run_cli

CLUSTERS = 3
# Three backfills at once on a loaded two-core machine.
READY_WITHIN = 300.0


def _free_block(size: int) -> int:
    """The first of ``size`` consecutive free ports, below the kernel's ephemeral range
    (where ``free_port`` hands out ports to the other tests)."""
    for _ in range(200):
        base = random.randrange(20_000, 30_000 - size)
        try:
            for port in range(base, base + size):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    pytest.fail(f"no {size} consecutive free ports found")


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _get(url: str, token: str, **params: str) -> Any:
    answer = httpx.get(url, params={**params, "token": token}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_three_clusters_fill_the_fleet_view_at_once_and_stop_together(tmp_path: Path) -> None:
    port = _free_block(CLUSTERS + 1)
    data_dir = tmp_path / "data"
    output = tmp_path / "demo-out.txt"
    with output.open("wb") as out:
        demo = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "license_service",
                "demo",
                "--clusters",
                str(CLUSTERS),
                "--port",
                str(port),
                "--history-days",
                "3",
                "--sample-interval",
                "300",
                "--data-dir",
                str(data_dir),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    children: list[int] = []
    try:

        def welcomed() -> bool:
            if demo.poll() is not None:
                pytest.fail(f"the demo exited with {demo.returncode}:\n{output.read_text()}")
            return "Stop with Ctrl+C" in output.read_text()

        eventually(welcomed, within=READY_WITHIN, what="the fleet demo's welcome")
        text = output.read_text()
        fleet = data_dir / "fleet"
        token = (fleet / "reporter" / "token").read_text().strip()
        reporter = f"http://127.0.0.1:{port}"
        assert f"{reporter}/?token={token}" in text
        assert f"{reporter}/products?token={token}" in text
        clusters = [
            (f"http://127.0.0.1:{port + n}", (fleet / f"cluster-{n}" / "api-token").read_text())
            for n in range(1, CLUSTERS + 1)
        ]
        for url, api_token in clusters:
            assert f"{url}/?token={api_token.strip()}" in text

        # The Reporter was filled at start: every cluster, with its history and today.
        today = datetime.now(UTC).date()
        listed = _get(f"{reporter}/clusters", token)
        assert len(listed) == CLUSTERS
        assert len({c["clusterId"] for c in listed}) == CLUSTERS
        assert sorted(c["clusterName"] for c in listed) == [
            f"demo-cluster-{n} (simulated)" for n in range(1, CLUSTERS + 1)
        ]
        assert all(c["lastDay"] >= today.isoformat() for c in listed)

        # A complete day: the fleet's value of each product is the sum of the clusters'.
        day = (today - timedelta(days=1)).isoformat()
        period = {"dateFrom": day, "dateTo": day}
        own = [
            {
                (r["id"], r["metricName"]): r["metricQuantity"]
                for r in _get(f"{url}/products", t.strip(), **period)
            }
            for url, t in clusters
        ]
        assert all(own), "every cluster has usage on that day"
        assert own[0] != own[1] or own[1] != own[2], "the clusters have different histories"
        expected: dict[tuple[str, str], int] = {}
        for values in own:
            for key, quantity in values.items():
                expected[key] = expected.get(key, 0) + quantity
        fleet_products = _get(f"{reporter}/products", token, **period)
        assert {(r["id"], r["metricName"]): r["metricQuantity"] for r in fleet_products} == expected

        children = _children(demo.pid)
        assert len(children) == CLUSTERS + 1  # the Reporter and the clusters
    finally:
        if demo.poll() is None:
            demo.send_signal(signal.SIGTERM)
        try:
            code = demo.wait(timeout=STOP_TIMEOUT + 10)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait()
            for child in _children(demo.pid) + children:
                if _alive(child):
                    os.kill(child, signal.SIGKILL)
            pytest.fail("the fleet demo did not stop within 30 s of SIGTERM")
    assert code == 0, output.read_text()
    assert "Stopping the clusters and the Reporter" in output.read_text()
    left = [pid for pid in children if _alive(pid)]
    assert left == [], f"processes left behind: {left}"


def test_a_cluster_count_out_of_bounds_is_refused_with_what_to_give(tmp_path: Path) -> None:
    result = run_cli("demo", "--clusters", "0", "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 2
    assert "--clusters 0 is not allowed: give 2 to 10" in result.stderr
    assert "or 1 (the default) for the one-cluster demo" in result.stderr
    assert not (tmp_path / "data").exists()


def test_a_reporter_that_cannot_start_stops_the_fleet_demo_saying_why(tmp_path: Path) -> None:
    port = _free_block(3)
    result = run_cli(
        "demo",
        "--clusters",
        "2",
        "--port",
        str(port),
        "--data-dir",
        str(tmp_path / "data"),
        "--database-url",
        "postgresql://demo:s3cret@127.0.0.1:1/fleet",
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("license-service: error: the fleet demo stopped: the Reporter exited")
    assert "cannot open database" in result.stderr  # the Reporter's own reason, shown
    assert "s3cret" not in result.stdout + result.stderr
    # No cluster was started, so none is left running on its port.
    for cluster_port in (port + 1, port + 2):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", cluster_port))
