"""The ``license-service`` command: the Typer application and its entry point ``main``.

Nothing is built at import time: ``build_app`` assembles the commands when called,
and each command builds what it needs (settings, readers, consoles) when it runs,
so ``license-service --help`` works with nothing installed or running around it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from license_service import __version__
from license_service.cli.demo_command import demo_command
from license_service.cli.exit_codes import reporting_errors
from license_service.cli.help_pages import HelpCommand, HelpGroup
from license_service.cli.measure_command import measure_command
from license_service.cli.reporter_command import build_reporter_app
from license_service.cli.serve_command import serve_command
from license_service.cli.snapshot_command import build_snapshot_app
from license_service.cli.token_command import build_token_app
from license_service.cli.upload_command import upload_command

PROG_NAME = "license-service"


def build_app() -> typer.Typer:
    """Assemble the ``license-service`` command group."""
    app = typer.Typer(
        name=PROG_NAME,
        help="License Service: measure licensed software on a Kubernetes cluster.",
        no_args_is_help=True,
        add_completion=False,
        # Tracebacks with local variables could print tokens or keys.
        pretty_exceptions_show_locals=False,
        cls=HelpGroup,
    )
    app.callback()(_root)
    app.command("measure", cls=HelpCommand)(reporting_errors(measure_command))
    app.command("serve", cls=HelpCommand)(reporting_errors(serve_command))
    app.command("demo", cls=HelpCommand)(reporting_errors(demo_command))
    app.command("upload", cls=HelpCommand)(reporting_errors(upload_command))
    app.add_typer(build_snapshot_app())
    app.add_typer(build_token_app())
    app.add_typer(build_reporter_app())
    return app


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"{PROG_NAME} {__version__}")
        raise typer.Exit


def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version and exit.",
            is_eager=True,
            callback=_print_version,
        ),
    ] = False,
) -> None:
    """License Service: measure licensed software on a Kubernetes cluster."""


def main() -> None:
    """Run the command line (the ``license-service`` console script)."""
    build_app()(prog_name=PROG_NAME)
