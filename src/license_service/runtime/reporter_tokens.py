"""Where the Reporter's token is kept (SPEC 11, under SPEC 4.2's rules), decided once at start.

The first of:

1. ``--token-file FILE`` (say, a Secret mounted as a volume): re-read every 2 seconds by
   the Reporter, never generated;
2. in Kubernetes (in a pod, or given ``--kubeconfig``): Secret
   ``ibm-license-service-reporter-token``, key ``token``, in the Reporter's namespace
   (``--namespace``, else the pod's own, else ``ibm-common-services``, the rule of
   ``secrets.namespace``). Created with a new random token when missing, and watched, so
   a changed token is used within seconds without a restart. It is the Secret the
   clusters' senders read by default, so a License Service in the same namespace pushes
   with no copying;
3. the data directory's ``token`` file (mode 0600), generated on first start.

Fail closed: a Secret that cannot be read (or created) at start stops the start with
``ClusterError`` once ``startup_timeout`` has passed, naming the cause (say, a missing
RBAC rule); a Secret that later becomes invalid or is deleted accepts no Reporter token
until it is fixed or recreated, while service-account tokens keep working. A namespace
given with ``--namespace`` that the API server says does not exist stops the start at
once (``ConfigurationError``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from license_service.cluster.kubernetes.api_connection import ApiConnection
from license_service.configuration.ibmlicensing import LicensingConfig
from license_service.errors import ClusterError, ConfigurationError
from license_service.runtime.options import KubernetesOptions
from license_service.runtime.token_secret_sources import token_secret_source
from license_service.secrets.namespace import service_namespace
from license_service.tokens.file_source import TokenFile
from license_service.tokens.kinds import REPORTER_TOKEN
from license_service.tokens.secret_source import SecretTokenSource

ReporterTokenSource = TokenFile | SecretTokenSource
"""The Reporter token's source: a file (polled by the Reporter) or a watched Secret."""


def reporter_namespace(*, given: str | None, pod: str | None) -> str:
    """Where the Reporter's Secret lives: ``given``, else the pod's, else the default; pure."""
    return service_namespace(given=given, pod=pod, config=LicensingConfig())


def file_token_source(
    *, token_file: Path | None, data_dir: Path, clock: Callable[[], datetime]
) -> TokenFile:
    """``--token-file`` when given, else the data directory's token (generated when missing)."""
    return TokenFile(
        token_file or data_dir / REPORTER_TOKEN.file_name,
        generate_if_missing=token_file is None,
        grace_period=timedelta(0),
        clock=clock,
        kind=REPORTER_TOKEN,
    )


def started_secret_token_source(
    connection: ApiConnection,
    *,
    options: KubernetesOptions,
    namespace: str,
    clock: Callable[[], datetime],
) -> SecretTokenSource:
    """Follow the Reporter's Secret in ``namespace``, created when missing, once read.

    ``ConfigurationError`` when a namespace given with ``--namespace`` does not exist;
    ``ClusterError`` when the Secret is not read within ``options.startup_timeout``.
    The source is stopped again on either error.
    """
    if options.namespace is not None and connection.namespace_exists(namespace) is False:
        raise ConfigurationError(
            f"the Reporter's namespace {namespace} (given with --namespace) does not exist on "
            f"the API server {connection.server}; create it (`kubectl create namespace "
            f"{namespace}`) or give the namespace that keeps Secret {REPORTER_TOKEN.secret_name}"
        )
    source = token_secret_source(
        connection,
        namespace=namespace,
        secret_name=REPORTER_TOKEN.secret_name,
        options=options,
        grace_period=timedelta(0),
        clock=clock,
        kind=REPORTER_TOKEN,
    )
    source.start()
    if source.wait_ready(options.startup_timeout.total_seconds()):
        return source
    source.stop()
    cause = source.watch_error() or "the API server did not answer"
    raise ClusterError(
        f"reading the Reporter token {source.label} did not succeed within "
        f"{options.startup_timeout.total_seconds():g} s: {cause}; check that the API server "
        "is reachable and that the Reporter's service account may list, watch and create "
        "that Secret (its Role), or give --token-file"
    )
