"""The options more than one command takes, each written once; and the command groups.

A flag has one spelling and one metavar wherever it appears (``--data-dir DIR``,
``--kubeconfig FILE``, ``--namespace/-n NAMESPACE``...); what it means differs a
little from command to command, so each command gives the help text. Options with
the same help everywhere (``--host``, ``--port``, ``--metrics-port``,
``--sample-interval``) are complete ``Annotated`` types, and ``--log-level`` of the
commands that read ``--config``; the others
are a ``Flag``, called with the help text. Most of these options have no default to
show: leaving them out means what the help says (``optional``). ``command_group``
builds ``snapshot`` and ``token``: a group of commands whose errors become exit codes
(``exit_codes``).

Nothing here is built at import time beyond Typer's option descriptions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from license_service.cli.exit_codes import reporting_errors
from license_service.cli.help_pages import HelpCommand, HelpGroup
from license_service.formats.unsafe_characters import unsafe_text_reason
from license_service.sampling.schedule import MAX_INTERVAL_SECONDS

# The value of typer.Option(): Typer reads it from the annotations of each command.
OptionInfo = Any


def optional(*flags: str, metavar: str, help_text: str) -> OptionInfo:
    """An option whose absence means what ``help_text`` says (no default shown)."""
    return typer.Option(*flags, metavar=metavar, help=help_text, show_default=False)


@dataclass(frozen=True, slots=True)
class Flag:
    """A flag's spelling and metavar, fixed once; called with a command's help text."""

    names: tuple[str, ...]
    metavar: str
    callback: Callable[[Any], Any] | None = None

    def __call__(self, help_text: str, *, show_default: bool = False) -> OptionInfo:
        """The Typer option of this flag for one command."""
        return typer.Option(
            *self.names,
            metavar=self.metavar,
            help=help_text,
            show_default=show_default,
            callback=self.callback,
        )


def kept_text(value: str | None) -> str | None:
    """A flag's text that is stored or shown (a cluster id or name); refused (exit code 2)
    when it holds a character no stored text may hold (``formats.unsafe_characters``)."""
    reason = None if value is None else unsafe_text_reason(value)
    if reason is not None:
        raise typer.BadParameter(reason)
    return value


data_dir = Flag(("--data-dir",), "DIR")
"""The data directory of a server (or of the demo)."""
database_url = Flag(("--database-url",), "URL")
"""A store other than the data directory's SQLite file."""
cluster_id = Flag(("--cluster-id",), "ID", callback=kept_text)
"""The cluster measured or reported."""
cluster_name = Flag(("--cluster-name",), "NAME", callback=kept_text)
"""The name shown for the cluster."""
token_file = Flag(("--token-file",), "FILE")
"""The API token's file, instead of the data directory's."""
kubeconfig = Flag(("--kubeconfig",), "FILE")
"""Reach a cluster from outside it."""
context = Flag(("--context",), "NAME")
"""A context of the kubeconfig."""
namespace = Flag(("--namespace", "-n"), "NAMESPACE")
"""The service's namespace, where its Secrets live."""


log_level = Flag(("--log-level",), "LEVEL")
"""How much the service logs; each command says its default."""
LOG_LEVELS = "DEBUG, VERBOSE, INFO, WARNING or ERROR"

HostOption = Annotated[
    str,
    typer.Option(
        "--host", metavar="ADDRESS", help="Address to listen on; 0.0.0.0 is every interface."
    ),
]
PortOption = Annotated[int, typer.Option("--port", metavar="PORT", help="Port of the API.")]
MetricsPortOption = Annotated[
    int,
    typer.Option(
        "--metrics-port", metavar="PORT", help="Port of /metrics (Prometheus); 0 turns it off."
    ),
]
SampleIntervalOption = Annotated[
    int,
    # Bounded here too: a huge number of seconds is more than a timedelta holds.
    typer.Option(
        "--sample-interval",
        metavar="SECONDS",
        help="Seconds between two samples.",
        max=MAX_INTERVAL_SECONDS,
    ),
]
StartOverOption = Annotated[
    bool,
    typer.Option(
        "--start-over",
        help="Begin with an empty database although this data directory used one that held "
        "data (it was emptied, deleted or truncated), or move a damaged SQLite file aside "
        "and begin anew. Nothing is deleted.",
    ),
]
LogLevelOption = Annotated[
    str | None, log_level(f"{LOG_LEVELS} (default: spec.logLevel of --config, else INFO).")
]


def command_group(
    name: str, *, help_text: str, commands: Mapping[str, Callable[..., None]]
) -> typer.Typer:
    """The group ``name`` of ``commands`` (by name, in order), each reporting its errors."""
    group = typer.Typer(name=name, help=help_text, no_args_is_help=True, cls=HelpGroup)
    for command_name, command in commands.items():
        group.command(command_name, cls=HelpCommand)(reporting_errors(command))
    return group
