"""`serve` on a live cluster whose API server never answers stops with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.kubernetes.cluster import Cluster
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
