"""The fleet demo's layout (``demo --clusters N``): ports, directories, seeds, names and the
clusters' Reporter flags, and the refusals of counts and ports that do not fit; pure."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from license_service.errors import ConfigurationError
from license_service.runtime.fleet_demo_plan import cluster_count_problem, plan_fleet


def _flag(arguments: tuple[str, ...], flag: str) -> str:
    return arguments[arguments.index(flag) + 1]


def test_the_reporter_takes_the_port_and_the_clusters_the_ports_after_it(tmp_path: Path) -> None:
    plan = plan_fleet(
        clusters=3,
        host="0.0.0.0",
        port=9000,
        data_dir=tmp_path,
        database_url=None,
        sample_interval=timedelta(minutes=5),
        history_days=90,
        python="python3",
    )
    assert plan.reporter.port == 9000
    assert [c.port for c in plan.clusters] == [9001, 9002, 9003]
    # Bound to every interface, reached at the loopback address.
    assert plan.reporter_url == "http://127.0.0.1:9000"
    assert plan.clusters[0].url == "http://127.0.0.1:9001"
    for number, cluster in enumerate(plan.clusters, start=1):
        assert _flag(cluster.arguments, "--reporter-url") == "http://127.0.0.1:9000"
        assert _flag(cluster.arguments, "--reporter-token-file") == str(plan.reporter_token_file)
        assert _flag(cluster.arguments, "--seed") == str(number - 1)
        assert _flag(cluster.arguments, "--cluster-name") == f"demo-cluster-{number} (simulated)"
        assert _flag(cluster.arguments, "--data-dir") == str(
            tmp_path / "fleet" / f"cluster-{number}"
        )
        assert _flag(cluster.arguments, "--history-days") == "90"
        assert _flag(cluster.arguments, "--metrics-port") == "0"
    assert len({c.log_file for c in (plan.reporter, *plan.clusters)}) == 4


def test_the_reporters_database_travels_in_its_environment_not_on_its_command_line(
    tmp_path: Path,
) -> None:
    secret = "postgresql://reporter:s3cret@db.example.com:5432/fleet"
    plan = plan_fleet(
        clusters=2,
        host="127.0.0.1",
        port=9000,
        data_dir=tmp_path,
        database_url=secret,
        sample_interval=timedelta(minutes=5),
        history_days=90,
    )
    assert dict(plan.reporter.environment) == {"LICENSE_SERVICE_REPORTER_DATABASE_URL": secret}
    assert not any("s3cret" in argument for argument in plan.reporter.arguments)
    default = plan_fleet(
        clusters=2,
        host="127.0.0.1",
        port=9000,
        data_dir=tmp_path,
        database_url=None,
        sample_interval=timedelta(minutes=5),
        history_days=90,
    )
    assert default.database_url == f"sqlite:///{tmp_path / 'fleet' / 'reporter' / 'reporter.db'}"


@pytest.mark.parametrize("count", [0, -1, 11])
def test_a_cluster_count_out_of_bounds_says_what_to_give(count: int) -> None:
    problem = cluster_count_problem(count)
    assert problem is not None
    assert f"--clusters {count} is not allowed: give 2 to 10" in problem


@pytest.mark.parametrize("count", [1, 2, 10])
def test_counts_in_bounds_are_allowed(count: int) -> None:
    assert cluster_count_problem(count) is None


@pytest.mark.parametrize("port", [0, 65_533])
def test_a_port_range_that_does_not_fit_is_refused(tmp_path: Path, port: int) -> None:
    with pytest.raises(ConfigurationError, match=f"--port {port} is not allowed with --clusters 3"):
        plan_fleet(
            clusters=3,
            host="127.0.0.1",
            port=port,
            data_dir=tmp_path,
            database_url=None,
            sample_interval=timedelta(minutes=5),
            history_days=90,
        )
