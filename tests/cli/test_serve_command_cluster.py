"""`license-service serve` flags of a live cluster: refused before anything starts when wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from license_service.cli.app import build_app

DUMP = Path(__file__).parent.parent / "fixtures" / "dumps" / "cluster.json"


def serve(*args: str) -> Any:
    return CliRunner().invoke(build_app(), ["serve", *args])


def test_dumps_and_a_kubeconfig_together_are_refused() -> None:
    result = serve("--cluster-dump", str(DUMP), "--kubeconfig", str(DUMP), "--namespace", "x")

    assert result.exit_code == 2
    assert (
        "--cluster-dump measures dump files, --kubeconfig and --namespace a live cluster"
        in result.stderr
    )


def test_an_invalid_namespace_and_timeout_are_refused_before_connecting(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")

    result = serve(
        "--kubeconfig", str(kubeconfig), "--namespace", "Bad_NS", "--startup-timeout", "0"
    )

    assert result.exit_code == 2
    assert "--namespace 'Bad_NS' is not a namespace name" in result.stderr
    assert "--startup-timeout 0 is not positive" in result.stderr


def test_a_context_without_any_kubeconfig_to_find_it_in_is_refused_as_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing.yaml"))

    result = serve("--context", "prod", "--data-dir", str(tmp_path / "data"))

    assert result.exit_code == 2
    assert f"$KUBECONFIG names {tmp_path}/missing.yaml, but no such file exists" in result.stderr


def test_a_missing_kubeconfig_is_named() -> None:
    result = serve("--kubeconfig", "/nonexistent/kubeconfig")

    assert result.exit_code == 2
    assert "--kubeconfig /nonexistent/kubeconfig: no such file" in result.stderr


def test_a_cluster_id_or_name_no_store_can_hold_is_refused_before_anything_starts() -> None:
    # The id is in every stored row: a NUL made every sample fail on PostgreSQL.
    wide = {"COLUMNS": "300"}
    with_id = CliRunner().invoke(
        build_app(), ["serve", "--cluster-dump", str(DUMP), "--cluster-id", "prod\x00"], env=wide
    )
    with_name = CliRunner().invoke(
        build_app(),
        ["serve", "--cluster-dump", str(DUMP), "--cluster-name", "prod\nGaps: none"],
        env=wide,
    )

    assert with_id.exit_code == 2
    assert "--cluster-id" in with_id.stderr
    assert "character '\\x00' (U+0000 NULL) at position 5 of 5" in with_id.stderr
    assert with_name.exit_code == 2
    assert "--cluster-name" in with_name.stderr
    assert "(U+000A LINE FEED)" in with_name.stderr
