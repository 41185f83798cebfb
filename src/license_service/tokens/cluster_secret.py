"""Which token Secret ``license-service token`` acts on in a cluster, found as the service finds it.

The ``token`` commands given ``--kubeconfig``/``--context`` or ``--in-cluster`` act on
the Secret a running service reads (SPEC 4.2): its name is ``--secret``, else
``spec.apiSecretToken`` of the ``IBMLicensing`` resource in force, else
``ibm-licensing-token``; its namespace is ``--namespace``, else the pod's (with
``--in-cluster``), else ``spec.instanceNamespace``, else ``ibm-common-services`` (the
rule of ``secrets.namespace``). The resource is read only when
one of the two is not given; when it cannot be read or is invalid, the defaults are
used and ``note`` says so (the commands print it on standard error). A kubeconfig
that does not exist, and a namespace the API server says does not exist, are refused
with ``ConfigurationError`` (a wrong flag, exit code 2) before any Secret is touched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from license_service.cluster.kubernetes.api_connection import ApiConnection
from license_service.cluster.kubernetes.connection import SERVICE_ACCOUNT_DIRECTORY
from license_service.cluster.kubernetes.kubeconfig_files import kubeconfig_files
from license_service.cluster.kubernetes.pod_namespace import pod_namespace
from license_service.configuration.ibmlicensing import LicensingConfig, parse_ibmlicensing
from license_service.errors import ClusterError, ConfigurationError
from license_service.secrets.licensing_resource import read_licensing_document
from license_service.secrets.namespace import service_namespace
from license_service.tokens.cluster_flags import ClusterTokenFlags
from license_service.tokens.kinds import API_TOKEN, TokenKind
from license_service.tokens.secret_store import TokenSecret

__all__ = ["ClusterTokenFlags", "opened_token_secret"]


@contextlib.contextmanager
def opened_token_secret(
    flags: ClusterTokenFlags,
    *,
    note: Callable[[str], None],
    service_account_directory: Path = SERVICE_ACCOUNT_DIRECTORY,
    kind: TokenKind = API_TOKEN,
) -> Iterator[TokenSecret]:
    """Connect as ``flags`` say and yield the token Secret; the connection closes afterwards.

    ``kind``: the upload token's Secret has one name (``ibm-licensing-upload-token``)."""
    flags.check()
    if flags.in_cluster:
        connection = ApiConnection.in_cluster(service_account_directory=service_account_directory)
    else:
        problem = kubeconfig_files(flags.kubeconfig).problem()
        if problem is not None:
            raise ConfigurationError(problem)
        connection = ApiConnection.from_kubeconfig(flags.kubeconfig, context=flags.context)
    try:
        config = LicensingConfig()
        if flags.namespace is None or flags.secret is None:
            config = _configuration(connection, note=note)
        namespace = service_namespace(
            given=flags.namespace,
            pod=pod_namespace(service_account_directory) if flags.in_cluster else None,
            config=config,
        )
        if connection.namespace_exists(namespace) is False:
            raise ConfigurationError(
                f"the namespace {namespace} does not exist on the API server "
                f"{connection.server}; give the service's namespace with --namespace (the "
                "one holding its token Secret: `kubectl get secrets -A | grep licensing-token`)"
            )
        default_name = config.api_secret_token if kind is API_TOKEN else kind.secret_name
        yield TokenSecret(
            connection.api_client,
            namespace=namespace,
            name=flags.secret or default_name,
            kind=kind,
        )
    finally:
        connection.close()


def _configuration(connection: ApiConnection, *, note: Callable[[str], None]) -> LicensingConfig:
    """The configuration of the ``IBMLicensing`` resource, or the defaults (with a note)."""
    try:
        document = read_licensing_document(connection.api_client)
    except ClusterError as error:
        note(
            f"could not read the IBMLicensing resource ({error}); using the default Secret "
            "name and namespace: give --secret and --namespace to choose"
        )
        return LicensingConfig()
    if document is None:
        return LicensingConfig()
    try:
        return parse_ibmlicensing(document)
    except ConfigurationError as error:
        note(
            f"{error}; using the default Secret name and namespace: give --secret and "
            "--namespace to choose"
        )
        return LicensingConfig()
