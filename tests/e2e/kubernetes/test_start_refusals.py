"""`serve` on a live cluster it cannot use stops with one clear line, and no traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.kubernetes.cluster import NAMESPACE, Cluster
from tests.e2e.processes import free_port, run_cli

pytestmark = pytest.mark.slow


def test_an_api_server_that_never_answers_stops_the_start_with_the_cluster_exit_code(
    cluster: Cluster, tmp_path: Path
) -> None:
    cluster.api.stop()

    result = run_cli(
        "serve",
        "--kubeconfig", str(cluster.kubeconfig),
        "--data-dir", str(tmp_path / "data"),
        "--port", str(free_port()),
        "--metrics-port", "0",
        "--startup-timeout", "1",
    )  # fmt: skip

    assert result.returncode == 4
    assert "did not succeed within 1 s (--startup-timeout)" in result.stderr
    assert "cannot reach the API server" in result.stderr


def test_a_missing_namespace_stops_the_start_at_once_with_one_line(
    cluster: Cluster, tmp_path: Path
) -> None:
    started = time.monotonic()
    result = run_cli(
        "serve",
        "--kubeconfig", str(cluster.kubeconfig),
        "--namespace", "licensing-nowhere",
        "--data-dir", str(tmp_path / "data"),
        "--port", str(free_port()),
        "--metrics-port", "0",
    )  # fmt: skip

    assert result.returncode == 2
    assert time.monotonic() - started < 30  # not the 60 s of --startup-timeout
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if " ERROR " in line]
    assert errors == []
    last = result.stderr.splitlines()[-1]
    assert last == (
        "license-service: error: the service's namespace licensing-nowhere (given with "
        f"--namespace) does not exist on the API server {cluster.api.url}; create it "
        "(`kubectl create namespace licensing-nowhere`), or give the namespace to keep the "
        "service's Secrets in with --namespace"
    )


def test_a_secret_the_service_may_not_create_is_one_line_and_the_end_message_is_whole(
    cluster: Cluster, tmp_path: Path
) -> None:
    cluster.api.faults.fail(None, status=403, path="/secrets$", method="POST")

    result = run_cli(
        "serve",
        "--kubeconfig", str(cluster.kubeconfig),
        "--namespace", NAMESPACE,
        "--data-dir", str(tmp_path / "data"),
        "--port", str(free_port()),
        "--metrics-port", "0",
        "--startup-timeout", "3",
    )  # fmt: skip

    assert result.returncode == 4
    assert "Traceback" not in result.stderr
    refusals = [line for line in result.stderr.splitlines() if "HTTP 403" in line]
    assert " WARNING " in refusals[0]
    assert all(" WARNING " not in line and " ERROR " not in line for line in refusals[1:-1])
    last = result.stderr.splitlines()[-1]
    assert last.startswith("license-service: error: reading the API token Secret")
    assert "…" not in last
    assert f"needs get, list, watch, create and update on secrets in namespace {NAMESPACE}" in last
