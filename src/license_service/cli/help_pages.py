"""``--help`` as plain text that reads well in an 80-column terminal.

Typer's rich help squeezes a table of six columns into the terminal: at 80 columns
it cut long option names and defaults with an ellipsis and tagged every flag
``<bool>``; click's plain help cut command summaries and broke ``license-service``
at its hyphen. Here every command (``HelpCommand``) and group (``HelpGroup``) writes
its own help: the usage line, the description, then options (and arguments, and
commands) as a list of terms with their text wrapped beside them. Guarantees: no
line wider than click's help width (the terminal, at most 80 columns), nothing cut
(a word longer than its column overflows rather than being broken), no type tags
(an option shows its metavar, a flag nothing), defaults and "required" written into
the text. Typer's parsing, errors and completion are untouched.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Sequence
from enum import Enum
from typing import Any, Final

import typer
from typer.core import TyperCommand, TyperGroup

_INDENT: Final = 2
_GAP: Final = 2
# A term longer than this goes on its own line, its text below it (as click does).
_TERM_MAX: Final = 30

Row = tuple[str, str]
"""A term (``--data-dir DIR``, a command's name) and the text that explains it."""


class _HelpPage:
    """Help page and usage line written by this module (mixed into Typer's classes)."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        """Write this command's help page into ``formatter`` (click's, for its width)."""
        formatter.write(help_page(self, ctx, width=formatter.width))

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        """Write the usage line (shown above a usage error) as the help page writes it."""
        formatter.write(usage_line(self, ctx) + "\n")


class HelpCommand(_HelpPage, TyperCommand):
    """A Typer command whose ``--help`` is ``help_page``."""


class HelpGroup(_HelpPage, TyperGroup):
    """A Typer command group whose ``--help`` is ``help_page``, its commands listed whole."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Print the help page for a group called without a command, and exit with 2.

        Typer's rich errors expect the help printed already and stay silent.
        """
        if not args and self.no_args_is_help and not ctx.resilient_parsing:
            typer.echo(ctx.get_help())
            ctx.exit(2)
        return super().parse_args(ctx, args)


def help_page(command: Any, ctx: Any, *, width: int) -> str:
    """The help of ``command`` (a click command or group, as Typer builds them) in ``width``."""
    arguments, options = _parameters(command, ctx)
    commands = _commands(command, ctx)
    lines = [usage_line(command, ctx), ""]
    for paragraph in inspect.cleandoc(command.help or "").split("\n\n"):
        if paragraph.strip():
            lines += _wrapped(paragraph, width=width, indent=_INDENT)
            lines.append("")
    sections = (
        ("Arguments", [(_metavar(param), _text(param)) for param in arguments]),
        ("Options", [(_option_term(param), _text(param)) for param in options]),
        ("Commands", commands),
    )
    for title, rows in sections:
        if rows:
            lines += [f"{title}:", *_definitions(rows, width=width), ""]
    return "\n".join(lines)


def usage_line(command: Any, ctx: Any) -> str:
    """``Usage: license-service token set [OPTIONS] VALUE``: the command and its arguments."""
    arguments, options = _parameters(command, ctx)
    pieces = [f"Usage: {ctx.command_path}"]
    if options:
        pieces.append("[OPTIONS]")
    for argument in arguments:
        name = _metavar(argument) + ("..." if argument.nargs != 1 else "")
        pieces.append(name if argument.required else f"[{name}]")
    if isinstance(command, TyperGroup):
        pieces.append("COMMAND [ARGS]...")
    return " ".join(pieces)


def _parameters(command: Any, ctx: Any) -> tuple[list[Any], list[Any]]:
    """The arguments and the options a user may give ``command`` (hidden ones left out)."""
    params = [param for param in command.get_params(ctx) if not getattr(param, "hidden", False)]
    arguments = [param for param in params if param.param_type_name == "argument"]
    return arguments, [param for param in params if param.param_type_name != "argument"]


def _commands(command: Any, ctx: Any) -> list[Row]:
    """A group's commands with the first paragraph of their help, whole."""
    if not isinstance(command, TyperGroup):
        return []
    rows = []
    for name in command.list_commands(ctx):
        sub = command.get_command(ctx, name)
        if sub is None or sub.hidden:
            continue
        summary = sub.short_help or inspect.cleandoc(sub.help or "").split("\n\n")[0]
        rows.append((name, " ".join(summary.split())))
    return rows


def _metavar(param: Any) -> str:
    return str(param.metavar or param.name.upper())


def _option_term(param: Any) -> str:
    """``-o, --output FILE``: short names first, then long ones, then the metavar."""
    names = sorted([*param.opts, *param.secondary_opts], key=lambda name: name.startswith("--"))
    term = ", ".join(names)
    return term if param.is_flag else f"{term} {_metavar(param)}"


def _text(param: Any) -> str:
    """The option's help with its default (when shown) and "required" written in."""
    text = " ".join((param.help or "").split())
    notes = []
    default = _shown_default(param)
    if default is not None:
        notes.append(f"default: {default}")
    if param.required and param.param_type_name != "argument":
        notes.append("required")
    if not notes:
        return text
    body, stop = (text[:-1], ".") if text.endswith(".") else (text, "")
    return f"{body} ({'; '.join(notes)}){stop}".lstrip()


def _shown_default(param: Any) -> str | None:
    show = getattr(param, "show_default", None)
    if isinstance(show, str):
        return show
    default = param.default
    if not show or getattr(param, "is_flag", False) or default is None or callable(default):
        return None
    if isinstance(default, Enum):
        return str(default.value)
    if isinstance(default, list | tuple):
        return ", ".join(str(value) for value in default) or None
    return str(default)


def _definitions(rows: Sequence[Row], *, width: int) -> list[str]:
    """``rows`` as terms with their text wrapped beside them (below, for a long term)."""
    term_width = min(max(len(term) for term, _ in rows), _TERM_MAX)
    column = _INDENT + term_width + _GAP
    lines = []
    for term, text in rows:
        wrapped = _wrapped(text, width=width, indent=column) or [""]
        if len(term) <= term_width:
            first = " " * _INDENT + term.ljust(term_width + _GAP) + wrapped[0].lstrip()
            lines.append(first.rstrip())
        else:
            lines += [" " * _INDENT + term, wrapped[0]]
        lines += wrapped[1:]
    return lines


def _wrapped(text: str, *, width: int, indent: int) -> list[str]:
    """``text`` in lines of at most ``width`` columns, each indented by ``indent``.

    Never breaks a word, nor at a hyphen (``license-service`` stays whole).
    """
    return textwrap.wrap(
        " ".join(text.split()),
        width=width,
        initial_indent=" " * indent,
        subsequent_indent=" " * indent,
        break_long_words=False,
        break_on_hyphens=False,
    )
