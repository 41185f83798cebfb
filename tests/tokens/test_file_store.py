"""Token files: written atomically with mode 0600 after the rules pass; read without newline."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from license_service.errors import AuthenticationError, InvalidTokenError
from license_service.tokens.file_store import create_token_file, read_token_text, write_token_file

TOKEN = "Zq7mW2xK9pL4vR8tYb3N"
OTHER = "Hc5Jd8Fs2Ga6Kl9Qw4Er"


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_written_token_file_holds_the_token_and_a_newline_with_mode_0600(
    tmp_path: Path,
) -> None:
    path = tmp_path / "api-token"

    write_token_file(path, TOKEN)

    assert path.read_text() == f"{TOKEN}\n"
    assert mode_of(path) == 0o600


def test_writing_keeps_mode_0600_even_under_a_permissive_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        write_token_file(tmp_path / "api-token", TOKEN)
    finally:
        os.umask(previous)

    assert mode_of(tmp_path / "api-token") == 0o600


def test_writing_creates_a_private_data_directory(tmp_path: Path) -> None:
    path = tmp_path / "data" / "api-token"

    write_token_file(path, TOKEN)

    assert read_token_text(path) == TOKEN
    assert mode_of(tmp_path / "data") == 0o700


def test_replacing_a_token_makes_a_new_file_and_leaves_no_temporary_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "api-token"
    write_token_file(path, TOKEN)
    before = path.stat().st_ino
    os.chmod(path, 0o644)

    write_token_file(path, OTHER)

    # A new inode: the file was renamed into place, never rewritten in place,
    # so a reader sees the old token or the new one, never a mix.
    assert path.stat().st_ino != before
    assert read_token_text(path) == OTHER
    assert mode_of(path) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["api-token"]


def test_a_reader_holding_the_old_file_still_reads_the_whole_old_token(tmp_path: Path) -> None:
    path = tmp_path / "api-token"
    write_token_file(path, TOKEN)

    with path.open() as old:
        write_token_file(path, OTHER)
        assert old.read() == f"{TOKEN}\n"


def test_a_refused_token_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "api-token"
    write_token_file(path, TOKEN)

    with pytest.raises(InvalidTokenError, match="position 5"):
        write_token_file(path, "abcd efghijklmnopq")

    assert read_token_text(path) == TOKEN
    assert sorted(p.name for p in tmp_path.iterdir()) == ["api-token"]


def test_a_short_or_overlong_token_is_never_written(tmp_path: Path) -> None:
    path = tmp_path / "api-token"

    with pytest.raises(InvalidTokenError, match="at least 16"):
        write_token_file(path, "short")
    with pytest.raises(InvalidTokenError, match="at most 1024"):
        write_token_file(path, "a" * 1_025)
    with pytest.raises(InvalidTokenError, match="at least 16"):
        write_token_file(path, "a" * 15)
    with pytest.raises(InvalidTokenError, match="even with --force"):
        write_token_file(path, "a" * 7, forced=True)

    assert read_token_text(path) is None


def test_a_forced_token_of_8_to_15_characters_is_written(tmp_path: Path) -> None:
    # SPEC 4.3: `token set --force` writes through write_token_file(..., forced=True).
    path = tmp_path / "api-token"

    write_token_file(path, "a" * 15, forced=True)
    assert read_token_text(path) == "a" * 15
    write_token_file(path, "b" * 8, forced=True)
    assert read_token_text(path) == "b" * 8


def test_writing_through_a_symbolic_link_replaces_the_file_it_points_to(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    target = tmp_path / "secrets" / "token"
    write_token_file(target, TOKEN)
    link = tmp_path / "api-token"
    link.symlink_to(target)

    write_token_file(link, OTHER)

    assert link.is_symlink()
    assert read_token_text(target) == OTHER


def test_create_leaves_an_existing_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "api-token"

    assert create_token_file(path, TOKEN) is True
    assert create_token_file(path, OTHER) is False

    assert read_token_text(path) == TOKEN
    assert mode_of(path) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["api-token"]


def test_a_write_that_cannot_happen_names_the_file_and_what_to_do(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "data"
    not_a_directory.write_text("a file where the data directory should be")

    with pytest.raises(AuthenticationError, match=r"data/api-token: cannot write .* writable"):
        write_token_file(not_a_directory / "api-token", TOKEN)


@pytest.mark.parametrize(
    ("content", "token"),
    [
        (f"{TOKEN}\n", TOKEN),
        (f"{TOKEN}\r\n", TOKEN),
        (TOKEN, TOKEN),
        (f"{TOKEN}\n\n", f"{TOKEN}\n"),
        (f" {TOKEN}", f" {TOKEN}"),
        ("", ""),
    ],
    ids=["newline", "crlf", "no-newline", "two-newlines", "leading-space", "empty"],
)
def test_reading_removes_one_final_newline_and_nothing_else(
    tmp_path: Path, content: str, token: str
) -> None:
    path = tmp_path / "token"
    path.write_bytes(content.encode())

    assert read_token_text(path) == token


def test_reading_a_missing_file_gives_none(tmp_path: Path) -> None:
    assert read_token_text(tmp_path / "absent") is None


def test_reading_a_file_that_is_not_utf8_names_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_bytes(b"abc\xffdef")

    with pytest.raises(AuthenticationError, match=r"not UTF-8 text \(byte 4 of 7\)"):
        read_token_text(path)
