"""Clients for the Kubernetes API: in-cluster (service account) or from a kubeconfig.

Both use the official library's configuration loading, so every way it authenticates
works (service-account tokens re-read as the kubelet rotates them, client
certificates, exec plugins, OIDC), and return a fresh ``ApiClient`` without touching
the library's global default configuration. A kubeconfig is found as kubectl finds it
(``kubeconfig_files``: ``--kubeconfig``, else ``$KUBECONFIG``, else
``~/.kube/config``), read but never written back (a refreshed token stays in memory).
Failures raise ``ClusterError`` naming what to fix; the messages hold no credentials.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.incluster_config import InClusterConfigLoader

from license_service import __version__
from license_service.cluster.kubernetes.kubeconfig_files import KubeconfigFiles, kubeconfig_files
from license_service.errors import ClusterError

SERVICE_ACCOUNT_DIRECTORY: Final = Path("/var/run/secrets/kubernetes.io/serviceaccount")
USER_AGENT: Final = f"license-service/{__version__}"


def in_cluster_api_client(
    *,
    environ: Mapping[str, str] | None = None,
    service_account_directory: Path = SERVICE_ACCOUNT_DIRECTORY,
) -> client.ApiClient:
    """A client with the pod's service account (``KUBERNETES_SERVICE_HOST``/``_PORT``)."""
    configuration = client.Configuration()
    loader = InClusterConfigLoader(  # type: ignore[no-untyped-call]
        token_filename=str(service_account_directory / "token"),
        cert_filename=str(service_account_directory / "ca.crt"),
        environ=os.environ if environ is None else environ,
    )
    try:
        loader.load_and_set(configuration)  # type: ignore[no-untyped-call]
    except (ConfigException, OSError) as error:
        raise ClusterError(
            f"cannot use the in-cluster service account ({service_account_directory}): "
            f"{error}; run the service in a pod with a service account, or pass a "
            "kubeconfig (--kubeconfig) to run it outside the cluster"
        ) from error
    return _client(configuration)


def kubeconfig_api_client(
    path: Path | None = None,
    *,
    context: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> client.ApiClient:
    """A client from a kubeconfig (default: ``$KUBECONFIG``'s files or ``~/.kube/config``)."""
    files = kubeconfig_files(path, environ=environ)
    return files_api_client(files, context=context or files.current_context())


def files_api_client(files: KubeconfigFiles, *, context: str | None) -> client.ApiClient:
    """A client from the merged ``files`` with ``context`` (``None``: the files' own)."""
    problem = files.problem()
    if problem is not None:
        raise ClusterError(problem)
    configuration = client.Configuration()
    try:
        config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=os.pathsep.join(str(path) for path in files.existing),
            context=context,
            client_configuration=configuration,
            persist_config=False,
        )
    except (ConfigException, OSError, ValueError, TypeError) as error:
        chosen = f", context {context!r}" if context else ""
        raise ClusterError(
            f"cannot use the {files.describe()}{chosen}: {error}; check the file "
            "(`kubectl config view`) and the context name (`kubectl config get-contexts`)"
        ) from error
    return _client(configuration)


def server_url(api_client: client.ApiClient) -> str:
    """The API server's URL the client talks to, without any user or password in it."""
    parts = urlsplit(str(api_client.configuration.host))
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _client(configuration: client.Configuration) -> client.ApiClient:
    # Our loops retry with backoff and log once per streak. urllib3's own retries (three,
    # at once) would hide failures from them, make a hung request wait four read
    # timeouts instead of one, and log a warning per retry.
    configuration.retries = 0
    api_client = client.ApiClient(configuration)
    api_client.user_agent = USER_AGENT
    return api_client
