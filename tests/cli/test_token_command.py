"""`license-service token get | set | generate | check` on a data directory or a token file."""

from __future__ import annotations

import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from license_service.cli.app import build_app
from license_service.runtime.options import DEFAULT_DATA_DIR
from license_service.tokens.file_source import TokenFile
from license_service.tokens.file_store import read_token_text, token_file_path, write_token_file
from tests.auth.clocks import FakeClock

TOKEN = "Zq7mW2xK9pL4vR8tYb3N"
NEW = "Hc5Jd8Fs2Ga6Kl9Qw4Er"


def run(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(build_app(), ["token", *args], input=input)


def test_get_prints_the_token_alone_for_piping(tmp_path: Path) -> None:
    write_token_file(token_file_path(tmp_path), TOKEN)

    result = run("get", "--data-dir", str(tmp_path))

    assert result.exit_code == 0
    assert result.stdout == f"{TOKEN}\n"


def test_get_says_clearly_when_there_is_no_token(tmp_path: Path) -> None:
    result = run("get", "--data-dir", str(tmp_path))

    assert result.exit_code == 2  # bad input: a --data-dir without a token
    assert result.stdout == ""
    assert "there is no API token file" in result.stderr
    assert f"license-service token generate --data-dir {tmp_path}" in result.stderr


def test_get_refuses_to_print_an_invalid_token_and_says_why(tmp_path: Path) -> None:
    token_file_path(tmp_path).write_text("bad token value here")

    result = run("get", "--data-dir", str(tmp_path))

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "position 4" in result.stderr
    assert "bad token value here" not in result.stderr


def test_set_writes_the_token_with_mode_0600(tmp_path: Path) -> None:
    result = run("set", TOKEN, "--data-dir", str(tmp_path))

    assert result.exit_code == 0, result.output
    assert read_token_text(token_file_path(tmp_path)) == TOKEN
    assert stat.S_IMODE(token_file_path(tmp_path).stat().st_mode) == 0o600
    assert TOKEN not in result.output


def test_set_reads_the_token_from_standard_input_with_a_dash(tmp_path: Path) -> None:
    result = run("set", "-", "--data-dir", str(tmp_path), input=f"{TOKEN}\n")

    assert result.exit_code == 0, result.output
    assert read_token_text(token_file_path(tmp_path)) == TOKEN


def test_set_refuses_a_token_breaking_the_rules_naming_character_and_position(
    tmp_path: Path,
) -> None:
    write_token_file(token_file_path(tmp_path), TOKEN)

    result = run("set", "abcdefgh&ijklmnopq", "--data-dir", str(tmp_path))

    assert result.exit_code == 2
    assert "character '&' at position 9" in result.stderr
    assert "abcdefgh&ijklmnopq" not in result.stderr
    assert read_token_text(token_file_path(tmp_path)) == TOKEN


def test_set_refuses_a_short_token_and_force_goes_no_lower_than_8(tmp_path: Path) -> None:
    # Issue 11.7: the server refuses tokens under 8 characters, so token set --force does too.
    refused = run("set", "short", "--data-dir", str(tmp_path))
    forced = run("set", "short", "--force", "--data-dir", str(tmp_path))

    assert refused.exit_code == 2
    assert "has 5 characters; at least 16 are required" in refused.stderr
    assert "license-service token generate" in refused.stderr
    assert forced.exit_code == 2
    assert read_token_text(token_file_path(tmp_path)) is None


def test_force_accepts_15_characters_in_set_and_check_and_never_7(tmp_path: Path) -> None:
    # SPEC 4.3: "tokens under 16 characters unless forced"; 8 is the floor (issue 11.7).
    path = token_file_path(tmp_path)
    fifteen, seven = TOKEN[:15], TOKEN[:7]

    refused_set = run("set", fifteen, "--data-dir", str(tmp_path))
    refused_check = run("check", fifteen)
    assert refused_set.exit_code == 2
    assert refused_check.exit_code == 2
    assert "at least 16 are required, or --force accepts 8 to 15" in refused_check.stderr
    assert read_token_text(path) is None

    forced_check = run("check", fifteen, "--force")
    forced_set = run("set", fifteen, "--force", "--data-dir", str(tmp_path))
    assert forced_check.exit_code == 0, forced_check.output
    assert "(15 characters)" in forced_check.stdout
    assert forced_set.exit_code == 0, forced_set.output
    assert read_token_text(path) == fifteen
    assert run("get", "--data-dir", str(tmp_path)).stdout == f"{fifteen}\n"

    for command in (
        ("set", seven, "--force", "--data-dir", str(tmp_path)),
        ("check", seven, "--force"),
    ):
        seven_forced = run(*command)
        assert seven_forced.exit_code == 2
        assert "at least 8 characters, even with --force" in seven_forced.stderr
    assert read_token_text(path) == fifteen


def test_get_refuses_a_kept_token_under_8_characters(tmp_path: Path) -> None:
    token_file_path(tmp_path).write_text("abcdefg\n")

    result = run("get", "--data-dir", str(tmp_path))

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "even with --force" in result.stderr


@pytest.mark.parametrize("length", [1_025, 9_000, 200_000])
def test_set_refuses_a_token_longer_than_any_url_takes(tmp_path: Path, length: int) -> None:
    result = run("set", "-", "--data-dir", str(tmp_path), input="a" * length + "\n")

    assert result.exit_code == 2
    assert f"has {length} characters; at most 1024 are allowed" in result.stderr
    assert read_token_text(token_file_path(tmp_path)) is None


def test_set_on_a_running_server_takes_effect_at_its_next_refresh(tmp_path: Path) -> None:
    server_tokens = TokenFile(
        token_file_path(tmp_path),
        generate_if_missing=True,
        grace_period=timedelta(0),
        clock=FakeClock(),
    )

    result = run("set", "-", "--data-dir", str(tmp_path), input=NEW)

    assert result.exit_code == 0, result.output
    assert server_tokens.refresh() is True
    assert server_tokens.current().tokens == (NEW,)


def test_token_file_acts_on_that_file_instead_of_the_data_directory(tmp_path: Path) -> None:
    path = tmp_path / "mounted-token"

    written = run("set", TOKEN, "--token-file", str(path))
    shown = run("get", "--token-file", str(path))

    assert (written.exit_code, shown.exit_code) == (0, 0)
    assert shown.stdout == f"{TOKEN}\n"
    assert read_token_text(path) == TOKEN


def test_data_dir_and_token_file_together_are_refused(tmp_path: Path) -> None:
    result = run("get", "--data-dir", str(tmp_path), "--token-file", str(tmp_path / "t"))

    assert result.exit_code == 2
    assert "give only one" in result.stderr


def test_generate_writes_a_new_token_and_prints_only_it(tmp_path: Path) -> None:
    write_token_file(token_file_path(tmp_path), TOKEN)

    result = run("generate", "--data-dir", str(tmp_path))

    assert result.exit_code == 0, result.output
    printed = result.stdout.removesuffix("\n")
    assert len(printed) == 24
    assert printed.isalnum()
    assert printed != TOKEN
    assert read_token_text(token_file_path(tmp_path)) == printed
    assert stat.S_IMODE(token_file_path(tmp_path).stat().st_mode) == 0o600


def test_check_accepts_a_good_token_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    result = run("check", TOKEN)

    assert result.exit_code == 0
    assert list(tmp_path.iterdir()) == []
    assert "follows the rules" in result.stdout
    assert TOKEN not in result.stdout


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("abc def0123456789", "' ' (U+0020 SPACE) at position 4"),
        ("abcdefgh0123456+", "'+' at position 16"),
        ("abc\u200bdef0123456789", "'\\u200b' (U+200B ZERO WIDTH SPACE) at position 4"),
    ],
    ids=["space", "plus", "zero-width-space"],
)
def test_check_names_the_offending_character_and_position(value: str, named: str) -> None:
    result = run("check", "-", input=value)

    assert result.exit_code == 2
    assert named in result.stderr


@pytest.mark.parametrize("how", ["argument", "stdin"])
def test_an_empty_token_is_said_to_be_empty(tmp_path: Path, how: str) -> None:
    value, given = ("", None) if how == "argument" else ("-", "\n")

    result = run("set", value, "--data-dir", str(tmp_path), input=given)

    assert result.exit_code == 2
    assert "the token is empty; give a token of 16 characters or more" in result.stderr
    assert "remove that character" not in result.stderr
    assert not token_file_path(tmp_path).exists()


def test_the_default_data_directory_is_the_servers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    result = run("set", TOKEN)

    assert result.exit_code == 0, result.output
    assert read_token_text(tmp_path / token_file_path(DEFAULT_DATA_DIR)) == TOKEN


def test_the_installed_command_sets_then_gets_the_token(tmp_path: Path) -> None:
    def command(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "license_service", "token", *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    written = command("set", "-", "--data-dir", str(tmp_path), stdin=f"{TOKEN}\n")
    shown = command("get", "--data-dir", str(tmp_path))
    refused = command("check", "token?with?marks0")

    assert written.returncode == 0, written.stderr
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == f"{TOKEN}\n"
    assert refused.returncode == 2
    assert "character '?' at position 6" in refused.stderr
