"""``license-service token get | set | generate | check``: the API token, in a file or a Secret.

By default the commands act on the token file of a data directory (``--data-dir``,
the server's default when not given) or on another file (``--token-file``). With
``--kubeconfig``/``--context`` (from outside a cluster) or ``--in-cluster`` (in a
pod), ``get``, ``set`` and ``generate`` act instead on the token Secret of a service
in Kubernetes (``--namespace``, ``--secret``; see ``tokens.cluster_secret``): ``get``
prints what ``kubectl get secret ibm-licensing-token -o jsonpath='{.data.token}' |
base64 -d`` prints; ``set`` and ``generate`` write the Secret with the seed's labels.
A server following that file or Secret applies a new token within 5 seconds,
without a restart. ``set`` and ``check`` apply the SPEC 4.3 rules first (16 to 1,024
URL-safe characters; ``--force`` accepts 8 to 15, never fewer) and, on refusal, name
the offending character and its position, or the length (exit code 2). ``get``
judges the token it finds as the server does, as forced (it may have been written
with ``--force``): 8 to 1,024 characters. A value of
``-`` is read from standard input, so the token stays out of shell history and
``ps``. Only ``get`` and ``generate`` print a token, alone on standard output. Each
command first decides where the token is kept (``_TokenPlace``: a file or a Secret),
then reads or writes it there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Protocol

import typer

from license_service.cli import options as flags
from license_service.errors import ConfigurationError, InvalidTokenError, MissingTokenError
from license_service.runtime.options import DEFAULT_DATA_DIR
from license_service.tokens.cluster_flags import ClusterTokenFlags
from license_service.tokens.file_store import read_token_text, write_token_file
from license_service.tokens.kinds import API_TOKEN, REPORTER_TOKEN, UPLOAD_TOKEN, TokenKind
from license_service.tokens.rules import (
    check_token,
    generate_token,
    strip_final_newline,
    token_problem,
)

STDIN = "-"
_APPLIED = "applies it within 5 seconds"

DataDirOption = Annotated[
    Path | None,
    flags.data_dir(
        f"Data directory of the server whose token to act on (default: ./{DEFAULT_DATA_DIR})."
    ),
]
TokenFileOption = Annotated[
    Path | None,
    flags.token_file(
        "Act on this token file (as given to `serve --token-file`) instead of --data-dir."
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
KubeconfigOption = Annotated[
    Path | None, flags.kubeconfig("Act on the token Secret of the cluster of this kubeconfig.")
]
ContextOption = Annotated[
    str | None, flags.context("Act on the token Secret of this kubeconfig context's cluster.")
]
InClusterOption = Annotated[
    bool,
    typer.Option("--in-cluster", help="Act on the token Secret with the pod's service account."),
]
NamespaceOption = Annotated[
    str | None,
    flags.namespace(
        "The service's namespace (default: spec.instanceNamespace, else ibm-common-services)."
    ),
]
ForceOption = Annotated[
    bool,
    typer.Option(
        "--force", help="Accept a token of 8 to 15 characters; 16 or more are required otherwise."
    ),
]
UploadOption = Annotated[
    bool,
    typer.Option(
        "--upload",
        help="Act on the upload token (DIR/upload-token, or Secret ibm-licensing-upload-token) "
        "instead of the API token.",
    ),
]
ReporterOption = Annotated[
    bool,
    typer.Option(
        "--reporter",
        help="Act on the Reporter's token (DIR/token, or Secret "
        "ibm-license-service-reporter-token) instead of the API token.",
    ),
]
SecretOption = Annotated[
    str | None,
    flags.optional(
        "--secret",
        metavar="NAME",
        help_text="The token Secret's name (default: spec.apiSecretToken, else "
        "ibm-licensing-token).",
    ),
]


def build_token_app() -> typer.Typer:
    """The ``token`` command group."""
    return flags.command_group(
        "token",
        help_text="Show, set, generate or check the API token.",
        commands={
            "get": get_command,
            "set": set_command,
            "generate": generate_command,
            "check": check_command,
        },
    )


def get_command(
    *,
    data_dir: DataDirOption = None,
    token_file: TokenFileOption = None,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
    in_cluster: InClusterOption = False,
    namespace: NamespaceOption = None,
    secret: SecretOption = None,
    upload: UploadOption = False,
    reporter: ReporterOption = False,
) -> None:
    """Print the API token (or the upload token), alone on one line (for piping)."""
    cluster = ClusterTokenFlags(kubeconfig, context, in_cluster, namespace, secret)
    kind = _kind(upload, reporter=reporter)
    typer.echo(_token_place(cluster, data_dir=data_dir, token_file=token_file, kind=kind).read())


def set_command(
    value: ValueArgument,
    *,
    data_dir: DataDirOption = None,
    token_file: TokenFileOption = None,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
    in_cluster: InClusterOption = False,
    namespace: NamespaceOption = None,
    secret: SecretOption = None,
    force: ForceOption = False,
    upload: UploadOption = False,
    reporter: ReporterOption = False,
) -> None:
    """Check VALUE against the token rules, then make it the API (or upload) token."""
    cluster = ClusterTokenFlags(kubeconfig, context, in_cluster, namespace, secret)
    kind = _kind(upload, reporter=reporter)
    place = _token_place(cluster, data_dir=data_dir, token_file=token_file, kind=kind)
    token = _read_value(value)
    check_token(token, forced=force)
    typer.echo(f"{_capitalised(kind.name)} {place.write(token, forced=force)}")


def generate_command(
    *,
    data_dir: DataDirOption = None,
    token_file: TokenFileOption = None,
    kubeconfig: KubeconfigOption = None,
    context: ContextOption = None,
    in_cluster: InClusterOption = False,
    namespace: NamespaceOption = None,
    secret: SecretOption = None,
    upload: UploadOption = False,
    reporter: ReporterOption = False,
) -> None:
    """Make a new random API (or upload) token of 24 letters and digits; write and print it."""
    cluster = ClusterTokenFlags(kubeconfig, context, in_cluster, namespace, secret)
    kind = _kind(upload, reporter=reporter)
    place = _token_place(cluster, data_dir=data_dir, token_file=token_file, kind=kind)
    token = generate_token()
    written = place.write(token, forced=False)
    typer.echo(token)
    typer.echo(f"New {kind.name} {written}", err=True)


def check_command(value: ValueArgument, *, force: ForceOption = False) -> None:
    """Say whether VALUE may be an API token, naming the offending character if not."""
    token = _read_value(value)
    check_token(token, forced=force)
    typer.echo(f"the token follows the rules ({len(token)} characters)")


class _TokenPlace(Protocol):
    """Where a command finds the API token: a token file, or the token Secret of a cluster."""

    def read(self) -> str:
        """The token kept there, checked as a server checks it."""
        ...

    def write(self, token: str, *, forced: bool) -> str:
        """Keep ``token`` (checked by the command; ``forced``: with ``--force``) there; say
        where, for its message."""
        ...


@dataclass(frozen=True, slots=True)
class _TokenFilePlace:
    """The token file acted on, and the option naming it (for messages)."""

    path: Path
    option: str
    kind: TokenKind = API_TOKEN

    def read(self) -> str:
        """The token of the file; refused when missing or invalid."""
        text = read_token_text(self.path)
        name = self.kind.name
        if text is None:
            raise MissingTokenError(
                f"{self.path}: there is no {name} file; the server creates one on first "
                f"start, or create one now with `license-service token generate {self.option}`"
            )
        # As the server judges it: 8 to 15 characters may have been written with --force.
        problem = token_problem(text, forced=True)
        if problem is not None:
            raise InvalidTokenError(
                f"{self.path}: the token there is invalid, so the server accepts no {name}: "
                f"{problem.description}; replace it with `license-service token set "
                f"{self.option} -` or `license-service token generate {self.option}`"
            )
        return text

    def write(self, token: str, *, forced: bool) -> str:
        """Write the file (mode 0600)."""
        write_token_file(self.path, token, forced=forced)
        return f"written to {self.path} (mode 0600); a server using this file {_APPLIED}"


@dataclass(frozen=True, slots=True)
class _TokenSecretPlace:
    """The token Secret of the cluster the flags reach (connected for each action)."""

    cluster: ClusterTokenFlags
    kind: TokenKind = API_TOKEN

    def read(self) -> str:
        """The token the Secret holds, checked as a service checks it."""
        from license_service.tokens.cluster_secret import opened_token_secret

        with opened_token_secret(self.cluster, note=_note, kind=self.kind) as token_secret:
            again = (
                self.cluster.command_flags(
                    namespace=token_secret.namespace, secret=token_secret.name
                )
                + self.kind.flag
            )
            label = token_secret.label
            reading = token_secret.read()
        if reading.missing:
            raise MissingTokenError(
                f"the {label} does not exist; the service creates it when it starts, "
                f"or create one now with `license-service token generate{again}`"
            )
        if reading.value is None:
            raise InvalidTokenError(
                f"{reading.problem}; replace the token with `license-service token set{again} -` "
                f"or `license-service token generate{again}`"
            )
        problem = token_problem(reading.value, forced=True)
        if problem is not None:
            raise InvalidTokenError(
                f"the token in {label} is invalid, so the service accepts no {self.kind.name}: "
                f"{problem.description}; replace it with `license-service token set{again} -` "
                f"or `license-service token generate{again}`"
            )
        return reading.value

    def write(self, token: str, *, forced: bool) -> str:
        """Write the Secret (created when missing); the command has checked ``token``."""
        del forced  # The Secret is written as given: the command checked it, --force included.
        from license_service.tokens.cluster_secret import opened_token_secret

        with opened_token_secret(self.cluster, note=_note, kind=self.kind) as token_secret:
            outcome = token_secret.write(token)
            return f"written to {token_secret.label} ({outcome}); a service following it {_APPLIED}"


def _token_place(
    cluster: ClusterTokenFlags,
    *,
    data_dir: Path | None,
    token_file: Path | None,
    kind: TokenKind = API_TOKEN,
) -> _TokenPlace:
    """The token Secret when the cluster flags choose a cluster, else the token file."""
    if _chooses_cluster(cluster, data_dir=data_dir, token_file=token_file):
        return _TokenSecretPlace(cluster, kind)
    flag = kind.flag
    if token_file is not None:
        if data_dir is not None:
            raise ConfigurationError(
                f"--data-dir {data_dir} and --token-file {token_file} both name a token file; "
                "give only one"
            )
        return _TokenFilePlace(token_file, f"--token-file {token_file}{flag}", kind)
    directory = DEFAULT_DATA_DIR if data_dir is None else data_dir
    path = directory / kind.file_name
    return _TokenFilePlace(path, f"--data-dir {directory}{flag}", kind)


def _kind(upload: bool, *, reporter: bool = False) -> TokenKind:
    if upload and reporter:
        raise ConfigurationError("--upload and --reporter name two tokens; give only one")
    return REPORTER_TOKEN if reporter else UPLOAD_TOKEN if upload else API_TOKEN


def _capitalised(name: str) -> str:
    return name[:1].upper() + name[1:]


def _chooses_cluster(
    cluster: ClusterTokenFlags, *, data_dir: Path | None, token_file: Path | None
) -> bool:
    """Whether the cluster flags choose a cluster (else a token file); refuses a mix."""
    if cluster.named_only:
        raise ConfigurationError(
            "--namespace and --secret name a token Secret in a cluster: add --kubeconfig FILE "
            "(outside the cluster) or --in-cluster (in a pod)"
        )
    if not cluster.given:
        return False
    local = "--data-dir" if data_dir is not None else "--token-file" if token_file else None
    if local is not None:
        raise ConfigurationError(
            f"{local} names a token file, --kubeconfig/--context/--in-cluster a token Secret; "
            "give only one"
        )
    return True


def _note(message: str) -> None:
    typer.echo(f"license-service: note: {message}", err=True)


def _read_value(value: str) -> str:
    """``value``, or standard input without its final newline when ``value`` is ``-``."""
    if value != STDIN:
        return value
    return strip_final_newline(typer.get_text_stream("stdin").read())
