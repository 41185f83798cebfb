"""A snapshot file is written whole or not at all, and killed runs' leftovers are removed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from license_service.audit.partial_files import remove_stale_partials, writing_whole
from license_service.errors import InputError


def test_the_target_appears_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "snapshot.zip"

    with writing_whole(target) as out:
        out.write(b"first half")
        [partial] = tmp_path.iterdir()
        assert partial.name.startswith(".snapshot.zip.")
        assert partial.name.endswith(".partial")
        assert partial.stat().st_mode & 0o777 == 0o600
        assert not target.exists()
        out.write(b", second half")

    assert target.read_bytes() == b"first half, second half"
    assert list(tmp_path.iterdir()) == [target]


def test_an_error_while_writing_leaves_the_old_target_and_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "snapshot.zip"
    target.write_bytes(b"the previous snapshot")

    def write_then_fail() -> None:
        with writing_whole(target) as out:
            out.write(b"half")
            raise RuntimeError("signing failed")

    with pytest.raises(RuntimeError):
        write_then_fail()

    assert target.read_bytes() == b"the previous snapshot"
    assert list(tmp_path.iterdir()) == [target]


def test_a_folder_that_does_not_exist_is_an_input_error(tmp_path: Path) -> None:
    opening = writing_whole(tmp_path / "missing" / "snapshot.zip")

    with pytest.raises(InputError, match=r"cannot write in .*: No such file or directory"):
        opening.__enter__()


def test_a_partial_file_is_stale_only_after_a_minute_unlocked(tmp_path: Path) -> None:
    fresh = tmp_path / ".a.zip.0123456789abcdef.partial"
    old = tmp_path / ".b.zip.0123456789abcdef.partial"
    for path in (fresh, old):
        path.write_bytes(b"half")
    earlier = time.time() - 61
    os.utime(old, (earlier, earlier))

    assert remove_stale_partials(tmp_path) == [old]
    assert fresh.exists()


def test_a_missing_folder_has_nothing_to_remove(tmp_path: Path) -> None:
    assert remove_stale_partials(tmp_path / "missing") == []
