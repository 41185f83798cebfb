"""``license-service reporter`` without a server: its token, trust and import refusals."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from license_service.cli.app import build_app
from license_service.store.database import sqlite_url


def _run(*arguments: str):
    return CliRunner().invoke(build_app(), list(arguments), catch_exceptions=False)


def test_the_reporter_token_is_its_own_file(tmp_path: Path) -> None:
    generated = _run("token", "generate", "--reporter", "--data-dir", str(tmp_path))
    assert generated.exit_code == 0, generated.output
    assert (tmp_path / "token").read_text().strip() in generated.output
    assert not (tmp_path / "api-token").exists()
    shown = _run("token", "get", "--reporter", "--data-dir", str(tmp_path))
    assert shown.output.strip() == (tmp_path / "token").read_text().strip()
    both = _run("token", "get", "--reporter", "--upload", "--data-dir", str(tmp_path))
    assert both.exit_code != 0


def test_trust_without_a_refused_key_or_database_says_what_to_do(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "reporter.db")
    unknown = _run("reporter", "trust", "nowhere", "--database-url", url)
    assert unknown.exit_code != 0
    assert "no cluster 'nowhere'" in unknown.output
    missing = _run("reporter", "trust", "c1")
    assert missing.exit_code != 0
    assert "--database-url" in missing.output


def test_import_of_a_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    not_zip = tmp_path / "snapshot.zip"
    not_zip.write_text("nope")
    url = sqlite_url(tmp_path / "reporter.db")
    refused = _run("reporter", "import", str(not_zip), "--database-url", url)
    assert refused.exit_code != 0
    assert "zip" in refused.output
