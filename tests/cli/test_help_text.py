"""Every command's ``--help`` reads well in an 80-column terminal (issue 12.7).

Run as a user runs it: a real process with ``COLUMNS=80``. For every command and
command group: no line wider than the terminal, no truncated option name, default
or help text (each option's whole help, default included, is in the output), no
type tags such as ``<bool>``, no references to the SPEC (users do not have it), and
no option named that the command does not take (a command quoted in backticks, such
as `serve --token-file`, may name its own).
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import typer

from license_service.cli.app import PROG_NAME, build_app

COLUMNS = 80
_TYPE_TAG = re.compile(r"<(?:bool|int|float|str|path|file|text|uuid|datetime|list\[|[a-z]+ range)")
_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]*[a-z]")
_QUOTED = re.compile(r"`[^`]*`")


def _subcommands(command: Any) -> dict[str, Any]:
    """The commands of a group by name (none for a command); Typer's click, duck-typed."""
    if not hasattr(command, "list_commands"):
        return {}
    context = typer.Context(command)
    return {name: command.get_command(context, name) for name in command.list_commands(context)}


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[Any]:
    yield pytest.param(path, command, id=" ".join(path) or PROG_NAME)
    for name, sub in _subcommands(command).items():
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(build_app())))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    """``license-service ARGS`` in a real process, in an 80-column terminal without colours."""
    return subprocess.run(
        [sys.executable, "-m", "license_service", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": str(COLUMNS), "NO_COLOR": "1"},
        timeout=60,
        check=False,
    )


@functools.cache
def _help(path: tuple[str, ...]) -> str:
    result = _run(*path, "--help")
    assert result.returncode == 0, result.stderr
    return result.stdout


def _flat(text: str) -> str:
    """``text`` with every run of whitespace (and box-drawing borders) as one space."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def _options(command: Any) -> list[Any]:
    return [param for param in command.params if not getattr(param, "hidden", False)]


@pytest.mark.parametrize(("path", "command"), COMMANDS)
def test_help_fits_80_columns_whole(path: tuple[str, ...], command: Any) -> None:
    text = _help(path)
    too_wide = [line for line in text.splitlines() if len(line) > COLUMNS]
    assert not too_wide, "\n".join(too_wide)
    assert "…" not in text
    flat = _flat(text)
    for param in _options(command):
        is_argument = param.param_type_name == "argument"
        names = [param.metavar] if is_argument else [*param.opts, *param.secondary_opts]
        for name in names:
            assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text), (name, text)
        help_text = getattr(param, "help", None)
        if help_text:
            # The page may write the default before the final full stop.
            assert _flat(help_text).rstrip(".") in flat, (help_text, text)
        default = param.default
        if getattr(param, "show_default", False) and default not in (None, False, ()):
            assert str(default) in flat, (param.name, default, text)
    for name, sub in _subcommands(command).items():
        first_paragraph = sub.help.split("\n\n")[0]
        assert _flat(first_paragraph) in flat, (name, text)


@pytest.mark.parametrize(("path", "command"), COMMANDS)
def test_help_has_no_type_tags_nor_spec_references(path: tuple[str, ...], command: Any) -> None:
    del command
    text = _help(path)
    assert not _TYPE_TAG.search(text), text
    assert "SPEC" not in text, text


@pytest.mark.parametrize(("path", "command"), COMMANDS)
def test_help_names_only_options_the_command_takes(path: tuple[str, ...], command: Any) -> None:
    text = _QUOTED.sub("", _help(path))
    taken = {name for param in command.params for name in param.opts}
    named = set(_FLAG.findall(text))
    assert named <= taken | {"--help"}, (named - taken, text)


def test_the_demo_says_its_own_default_log_level() -> None:
    text = _flat(_help(("demo",)))
    assert "--config" not in text
    assert "default: WARNING" in text


@pytest.mark.parametrize(
    "group", [(), ("token",), ("snapshot",)], ids=["root", "token", "snapshot"]
)
def test_a_group_without_a_command_prints_its_help(group: tuple[str, ...]) -> None:
    result = _run(*group)
    assert result.returncode == 2
    assert result.stdout == _help(group)


def test_a_usage_error_shows_the_usage_line_of_the_help_page() -> None:
    result = _run("token", "set")
    assert result.returncode == 2
    assert "Usage: license-service token set [OPTIONS] VALUE\n" in result.stderr
    assert "Missing argument 'VALUE'" in result.stderr
