"""The data directory: one layout, created private."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from license_service.errors import ConfigurationError
from license_service.runtime.paths import DataDir


def test_the_data_directory_holds_the_database_token_and_signing_key(tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path / "data")

    assert data_dir.database_file == tmp_path / "data" / "license-service.db"
    assert data_dir.token_file == tmp_path / "data" / "api-token"
    assert data_dir.signing_key_file == tmp_path / "data" / "signing-key.pem"
    assert data_dir.database_url.startswith("sqlite+pysqlite:///")


def test_the_data_directory_is_created_readable_by_its_owner_only(tmp_path: Path) -> None:
    data_dir = DataDir(tmp_path / "a" / "data")

    data_dir.create()

    assert stat.S_IMODE(data_dir.root.stat().st_mode) == 0o700


def test_a_file_in_the_way_is_refused(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("")

    with pytest.raises(ConfigurationError, match="is a file, not a directory"):
        DataDir(tmp_path / "data").create()
