"""Exit codes of ``license-service``, decided here and nowhere else.

===  ==========================================================================
0    success (problems found in the measured data are output, not failures)
1    any other License Service error
2    bad input: an unusable dump or configuration, or a wrong command line (a
     token asked for where there is none included)
3    the database cannot be used (``StorageError``)
4    the cluster cannot be read (``ClusterError``)
===  ==========================================================================

Commands raise the errors of ``license_service.errors``; ``build_app`` wraps every
command in ``reporting_errors``, which prints ONE line on standard error and exits
with the code above.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Final, ParamSpec

import typer

from license_service.errors import (
    ClusterError,
    ConfigurationError,
    InputError,
    LicenseServiceError,
    StorageError,
)

_P = ParamSpec("_P")

GENERIC_ERROR: Final = 1
# Checked in order; the first class the error is an instance of decides.
EXIT_CODES: Final[tuple[tuple[type[LicenseServiceError], int], ...]] = (
    (InputError, 2),
    (ConfigurationError, 2),
    (StorageError, 3),
    (ClusterError, 4),
)


def exit_code_for(error: LicenseServiceError) -> int:
    """The exit code that reports ``error``."""
    for error_class, code in EXIT_CODES:
        if isinstance(error, error_class):
            return code
    return GENERIC_ERROR


def reporting_errors(command: Callable[_P, None]) -> Callable[_P, None]:
    """Wrap a command so that a ``LicenseServiceError`` prints one line and exits with its code."""

    @functools.wraps(command)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except LicenseServiceError as exc:
            message = " ".join(str(exc).splitlines())
            typer.echo(f"license-service: error: {message}", err=True)
            raise typer.Exit(exit_code_for(exc)) from exc

    return run
