"""``license-service token get | set | generate | check``: the API token, in a file or a Secret.

By default the commands act on the token file of a data directory (``--data-dir``,
the server's default when not given) or on another file (``--token-file``). With
``--kubeconfig``/``--context`` (from outside a cluster) or ``--in-cluster`` (in a
pod), ``get``, ``set`` and ``generate`` act instead on the token Secret of a service
in Kubernetes (``--namespace``, ``--secret``; see ``runtime.cluster_token``): ``get``
prints what ``kubectl get secret ibm-licensing-token -o jsonpath='{.data.token}' |
base64 -d`` prints; ``set`` and ``generate`` write the Secret with the seed's labels.
A server following that file or Secret applies a new token within 5 seconds,
without a restart. ``set`` and ``check`` apply the SPEC 4.3 rules first and, on
refusal, name the offending character and its position (exit code 2). A value of
``-`` is read from standard input, so the token stays out of shell history and
``ps``. Only ``get`` and ``generate`` print a token, alone on standard output.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from license_service.cli.exit_codes import reporting_errors
from license_service.errors import AuthenticationError, ConfigurationError, InvalidTokenError
from license_service.tokens.cluster_flags import ClusterTokenFlags
from license_service.tokens.file_location import DEFAULT_DATA_DIR, token_file_path
from license_service.tokens.file_store import (
    read_token_text,
    strip_final_newline,
    write_token_file,
)
from license_service.tokens.rules import check_token, generate_token, token_problem

if TYPE_CHECKING:
    from license_service.tokens.secret_store import TokenSecret

STDIN = "-"

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        metavar="DIR",
        help=f"Data directory of the server whose token to act on (default: ./{DEFAULT_DATA_DIR}).",
        show_default=False,
    ),
]
TokenFileOption = Annotated[
    Path | None,
    typer.Option(
        "--token-file",
        metavar="FILE",
        help="Act on this token file (as given to `serve --token-file`) instead of --data-dir.",
        show_default=False,
    ),
]
ValueArgument = Annotated[
    str,
    typer.Argument(
        metavar="VALUE",
        help="The token, or '-' to read it from standard input (keeps it out of shell history).",
        show_default=False,
    ),
]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Accept a token shorter than 16 characters.")
]
KubeconfigOption = Annotated[
    Path | None,
    typer.Option(
        "--kubeconfig",
        metavar="FILE",
        help="Act on the token Secret of the cluster of this kubeconfig.",
        show_default=False,
    ),
]
ContextOption = Annotated[
    str | None,
    typer.Option(
        "--context",
        metavar="NAME",
        help="Act on the token Secret of this kubeconfig context's cluster.",
        show_default=False,
    ),
]
InClusterOption = Annotated[
    bool,
    typer.Option("--in-cluster", help="Act on the token Secret with the pod's service account."),
]
NamespaceOption = Annotated[
    str | None,
    typer.Option(
        "--namespace",
        "-n",
        metavar="NAMESPACE",
        help="The service's namespace (default: spec.instanceNamespace, else ibm-common-services).",
        show_default=False,
    ),
]
SecretOption = Annotated[
    str | None,
    typer.Option(
        "--secret",
        metavar="NAME",
        help="The token Secret's name (default: spec.apiSecretToken, else ibm-licensing-token).",
        show_default=False,
    ),
]


@dataclass(frozen=True, slots=True)
class _TokenFileChoice:
    """The token file acted on, and the option naming it (for messages)."""

    path: Path
    option: str


def build_token_app() -> typer.Typer:
    """The ``token`` command group."""
    app = typer.Typer(
        name="token",
        help="Show, set, generate or check the API token (SPEC 4.2-4.3).",
        no_args_is_help=True,
    )
    app.command("get")(reporting_errors(get_command))
    app.command("set")(reporting_errors(set_command))
    app.command("generate")(reporting_errors(generate_command))
    app.command("check")(reporting_errors(check_command))
    return app


def get_command(
    *,
    data_dir: DataDirOption = None,
    token_file: TokenFileOption = None,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
    in_cluster: InClusterOption = False,
    namespace: NamespaceOption = None,
    secret: SecretOption = None,
) -> None:
    """Print the API token, alone on one line (for piping)."""
    cluster = _cluster(
        ClusterTokenFlags(kubeconfig, context, in_cluster, namespace, secret),
        data_dir=data_dir,
        token_file=token_file,
    )
    if cluster is not None:
        from license_service.tokens.cluster_secret import opened_token_secret

        with opened_token_secret(cluster, note=_note) as token_secret:
            typer.echo(_secret_token(token_secret, cluster))
        return
    choice = _token_file(data_dir, token_file)
    text = read_token_text(choice.path)
    if text is None:
        raise AuthenticationError(
            f"{choice.path}: there is no API token file; the server creates one on first start, "
            f"or create one now with `license-service token generate {choice.option}`"
        )
    problem = token_problem(text, force=True)
    if problem is not None:
        raise InvalidTokenError(
            f"{choice.path}: the token there is invalid, so the server accepts no API token: "
            f"{problem.description}; replace it with `license-service token set {choice.option} -` "
            f"or `license-service token generate {choice.option}`"
        )
    typer.echo(text)


def set_command(
    value: ValueArgument,
    *,
    data_dir: DataDirOption = None,
    token_file: TokenFileOption = None,
    force: ForceOption = False,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
    in_cluster: InClusterOption = False,
    namespace: NamespaceOption = None,
    secret: SecretOption = None,
) -> None:
    """Check VALUE against the token rules, then make it the API token."""
    cluster = _cluster(
        ClusterTokenFlags(kubeconfig, context, in_cluster, namespace, secret),
        data_dir=data_dir,
        token_file=token_file,
    )
    token = _read_value(value)
    if cluster is not None:
        check_token(token, force=force)
        from license_service.tokens.cluster_secret import opened_token_secret

        with opened_token_secret(cluster, note=_note) as token_secret:
            outcome = token_secret.write(token)
            typer.echo(
                f"API token written to {token_secret.label} ({outcome}); a service following "
                "it applies it within 5 seconds"
            )
        return
    choice = _token_file(data_dir, token_file)
    write_token_file(choice.path, token, force=force)
    typer.echo(
        f"API token written to {choice.path} (mode 0600); a server using this file "
        "applies it within 5 seconds"
    )


def generate_command(
    *,
    data_dir: DataDirOption = None,
    token_file: TokenFileOption = None,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
    in_cluster: InClusterOption = False,
    namespace: NamespaceOption = None,
    secret: SecretOption = None,
) -> None:
    """Make a new random API token (24 letters and digits), write it and print it."""
    cluster = _cluster(
        ClusterTokenFlags(kubeconfig, context, in_cluster, namespace, secret),
        data_dir=data_dir,
        token_file=token_file,
    )
    token = generate_token()
    if cluster is not None:
        from license_service.tokens.cluster_secret import opened_token_secret

        with opened_token_secret(cluster, note=_note) as token_secret:
            outcome = token_secret.write(token)
            typer.echo(token)
            typer.echo(
                f"New API token written to {token_secret.label} ({outcome}); a service "
                "following it applies it within 5 seconds",
                err=True,
            )
        return
    choice = _token_file(data_dir, token_file)
    write_token_file(choice.path, token)
    typer.echo(token)
    typer.echo(
        f"New API token written to {choice.path} (mode 0600); a server using this file "
        "applies it within 5 seconds",
        err=True,
    )


def check_command(value: ValueArgument, *, force: ForceOption = False) -> None:
    """Say whether VALUE may be an API token, naming the offending character if not."""
    token = _read_value(value)
    check_token(token, force=force)
    typer.echo(f"the token follows the rules ({len(token)} characters)")


def _cluster(
    flags: ClusterTokenFlags, *, data_dir: Path | None, token_file: Path | None
) -> ClusterTokenFlags | None:
    """``flags`` when they choose a cluster, else ``None`` (the file variant)."""
    if flags.named_only:
        raise ConfigurationError(
            "--namespace and --secret name a token Secret in a cluster: add --kubeconfig FILE "
            "(outside the cluster) or --in-cluster (in a pod)"
        )
    if not flags.given:
        return None
    local = "--data-dir" if data_dir is not None else "--token-file" if token_file else None
    if local is not None:
        raise ConfigurationError(
            f"{local} names a token file, --kubeconfig/--context/--in-cluster a token Secret; "
            "give only one"
        )
    return flags


def _secret_token(token_secret: TokenSecret, flags: ClusterTokenFlags) -> str:
    """The token the Secret holds, checked as a service checks it."""
    again = flags.command_flags(namespace=token_secret.namespace, secret=token_secret.name)
    reading = token_secret.read()
    if reading.missing:
        raise AuthenticationError(
            f"the {token_secret.label} does not exist; the service creates it when it starts, "
            f"or create one now with `license-service token generate{again}`"
        )
    if reading.value is None:
        raise AuthenticationError(
            f"{reading.problem}; replace the token with `license-service token set{again} -` "
            f"or `license-service token generate{again}`"
        )
    problem = token_problem(reading.value, force=True)
    if problem is not None:
        raise InvalidTokenError(
            f"the token in {token_secret.label} is invalid, so the service accepts no API "
            f"token: {problem.description}; replace it with `license-service token set{again} -` "
            f"or `license-service token generate{again}`"
        )
    return reading.value


def _note(message: str) -> None:
    typer.echo(f"license-service: note: {message}", err=True)


def _token_file(data_dir: Path | None, token_file: Path | None) -> _TokenFileChoice:
    if token_file is not None:
        if data_dir is not None:
            raise ConfigurationError(
                f"--data-dir {data_dir} and --token-file {token_file} both name a token file; "
                "give only one"
            )
        return _TokenFileChoice(token_file, f"--token-file {token_file}")
    directory = DEFAULT_DATA_DIR if data_dir is None else data_dir
    return _TokenFileChoice(token_file_path(directory), f"--data-dir {directory}")


def _read_value(value: str) -> str:
    """``value``, or standard input without its final newline when ``value`` is ``-``."""
    if value != STDIN:
        return value
    return strip_final_newline(typer.get_text_stream("stdin").read())
