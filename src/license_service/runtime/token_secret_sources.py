"""A token followed in its Kubernetes Secret (SPEC 4.2-4.3), for any ``TokenKind``.

The one way the runtime builds a ``SecretTokenSource``: License Service for its API
and upload tokens (``kubernetes_start``), the Reporter for its own token
(``reporter_tokens``). The source watches Secret ``secret_name`` in ``namespace``,
creates it with a new random token when it is missing, and says how to fix an
invalid value with the command that writes that kind of token.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from license_service.cluster.kubernetes.api_connection import ApiConnection
from license_service.runtime.options import KubernetesOptions
from license_service.tokens.kinds import API_TOKEN, UPLOAD_TOKEN, TokenKind
from license_service.tokens.rules import generate_token
from license_service.tokens.secret_source import SecretTokenSource
from license_service.tokens.secret_store import TokenReading, TokenSecret, TokenSecretWatch


def token_secret_source(
    connection: ApiConnection,
    *,
    namespace: str,
    secret_name: str,
    options: KubernetesOptions,
    grace_period: timedelta,
    clock: Callable[[], datetime],
    kind: TokenKind = API_TOKEN,
) -> SecretTokenSource:
    """The (unstarted) source of the ``kind`` token kept in Secret ``secret_name``."""

    def open_watch(name: str, on_reading: Callable[[TokenReading], None]) -> TokenSecretWatch:
        return TokenSecretWatch(
            TokenSecret(connection.api_client, namespace=namespace, name=name, kind=kind),
            on_reading=on_reading,
            new_token=generate_token,
            counters=connection.counters,
            options=options.watch,
            clock=clock,
        )

    return SecretTokenSource(
        secret_name=secret_name,
        open_watch=open_watch,
        grace_period=grace_period,
        clock=clock,
        kind=kind,
        fix_hint=_fix_hint(kind, namespace=namespace, secret_name=secret_name, options=options),
    )


def _fix_hint(
    kind: TokenKind, *, namespace: str, secret_name: str, options: KubernetesOptions
) -> str:
    """How an operator writes a valid ``kind`` token into the Secret."""
    if kind is UPLOAD_TOKEN:
        return (
            f"write a valid token under key {kind.secret_key} of Secret {secret_name} "
            f"(namespace {namespace}), or delete the Secret: the service creates a new one"
        )
    where = "" if options.in_cluster else " --kubeconfig <file>"
    command = f"license-service token set{kind.flag}{where} --namespace {namespace} -"
    generate = f"license-service token generate{kind.flag}{where} --namespace {namespace}"
    if kind is API_TOKEN:
        return (
            f"write a valid token with `{command}` or `{generate}`, or apply a Secret like the "
            "seed document's token.yml"
        )
    return (
        f"write a valid token with `{command}` or `{generate}`, or delete Secret "
        f"{secret_name} (namespace {namespace}): a new one is created with a random token"
    )
