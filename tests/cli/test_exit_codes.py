"""Every License Service error maps to one exit code, decided in one place."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from license_service.cli.exit_codes import exit_code_for, reporting_errors
from license_service.errors import (
    ClusterError,
    ConfigurationError,
    InputError,
    InvalidRatioError,
    LicenseServiceError,
    SchemaTooNewError,
    StorageError,
)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InputError("x"), 2),
        (ConfigurationError("x"), 2),
        (StorageError("x"), 3),
        (SchemaTooNewError("x"), 3),
        (ClusterError("x"), 4),
        (InvalidRatioError("x"), 1),
        (LicenseServiceError("x"), 1),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_each_error_family_has_its_exit_code(error: LicenseServiceError, code: int) -> None:
    assert exit_code_for(error) == code


def test_a_wrapped_command_prints_one_line_and_exits_with_the_code() -> None:
    def fail() -> None:
        raise StorageError("database.sqlite: locked\nretry later")

    app = typer.Typer()
    app.command()(reporting_errors(fail))

    result = CliRunner().invoke(app, [])

    assert result.exit_code == 3
    assert result.stderr == "license-service: error: database.sqlite: locked retry later\n"


def test_a_wrapped_command_keeps_its_parameters() -> None:
    def greet(name: str, count: int = 1) -> None:
        typer.echo(f"{name} x{count}")

    app = typer.Typer()
    app.command()(reporting_errors(greet))

    result = CliRunner().invoke(app, ["ada", "--count", "2"])

    assert result.exit_code == 0
    assert result.stdout == "ada x2\n"
