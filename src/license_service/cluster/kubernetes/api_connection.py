"""One connection to the Kubernetes API, shared by every part the service builds on it.

The runtime holds an ``ApiConnection``, never the client's modules: it asks it for
the collector, and hands ``api_client`` to the few modules allowed to use the client
(the Secrets and the ``IBMLicensing`` resource in ``secrets``, ``tokens``, ``signing``
and ``tls``; ``auth.kubernetes_reviews``). Every part shares the one client; the
watches of Secrets and resources share one ``CollectorCounters`` (``counters``), the
collector keeps its own. ``server`` and ``description`` say which API server and whose
credentials (for the first log line), ``namespace_exists`` checks the service's
namespace before anything is written in it. ``close`` releases the client's
connections once the parts are stopped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final, cast

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from license_service.cluster.kubernetes.collector import KubernetesSource
from license_service.cluster.kubernetes.connection import (
    SERVICE_ACCOUNT_DIRECTORY,
    files_api_client,
    in_cluster_api_client,
    server_url,
)
from license_service.cluster.kubernetes.counters import CollectorCounters
from license_service.cluster.kubernetes.failures import describe_failure, status_code
from license_service.cluster.kubernetes.kubeconfig_files import kubeconfig_files
from license_service.cluster.kubernetes.raw_responses import close_response
from license_service.cluster.kubernetes.watch_options import WatchOptions
from license_service.metering.cluster_view import ClusterId

if TYPE_CHECKING:
    from urllib3.response import HTTPResponse

logger = logging.getLogger(__name__)

_NOT_FOUND: Final = 404
_TIMEOUT: Final = (10.0, 30.0)


class ApiConnection:
    """A client to one API server; the factory of the parts that use it."""

    def __init__(
        self, api_client: client.ApiClient, *, description: str, context: str | None = None
    ) -> None:
        """Take ownership of ``api_client``; ``description`` says whose credentials it uses,
        ``context`` names the kubeconfig context used (``None`` in a pod)."""
        self._api_client = api_client
        self.description = description
        self.context = context
        self.server = server_url(api_client)
        self.counters = CollectorCounters()

    @classmethod
    def in_cluster(
        cls,
        *,
        environ: Mapping[str, str] | None = None,
        service_account_directory: Path = SERVICE_ACCOUNT_DIRECTORY,
    ) -> ApiConnection:
        """Connect with the pod's service account (``ClusterError`` outside a pod)."""
        api_client = in_cluster_api_client(
            environ=environ, service_account_directory=service_account_directory
        )
        return cls(api_client, description="the pod's service account")

    @classmethod
    def from_kubeconfig(
        cls,
        path: Path | None,
        *,
        context: str | None,
        environ: Mapping[str, str] | None = None,
    ) -> ApiConnection:
        """Connect with a kubeconfig (default: ``$KUBECONFIG``'s files or ``~/.kube/config``)."""
        files = kubeconfig_files(path, environ=environ)
        chosen = context or files.current_context()
        api_client = files_api_client(files, context=chosen)
        where = files.describe()
        return cls(
            api_client,
            description=f"context {chosen} of {where}" if chosen else where,
            context=chosen,
        )

    @property
    def api_client(self) -> client.ApiClient:
        """The client itself, for the few modules allowed to use it directly."""
        return self._api_client

    def collector(
        self,
        *,
        cluster_id: ClusterId | None,
        options: WatchOptions,
        clock: Callable[[], datetime],
    ) -> KubernetesSource:
        """The (unstarted) collector of pods, nodes and namespaces."""
        return KubernetesSource(
            self._api_client, cluster_id=cluster_id, options=options, clock=clock
        )

    def namespace_exists(self, name: str) -> bool | None:
        """Whether namespace ``name`` exists; ``None`` when the API cannot tell (no
        permission to get it, or no answer: the steps after say what is wrong)."""
        core = client.CoreV1Api(self._api_client)
        try:
            response = core.read_namespace(name, _preload_content=False, _request_timeout=_TIMEOUT)
        except ApiException as error:
            if status_code(error) == _NOT_FOUND and _is_not_found_status(error.body):
                return False
            logger.debug("%s", describe_failure(error, action=f"get namespace {name}").message)
            return None
        except Exception as error:  # unreachable: the waits of the start report it
            logger.debug("%s", describe_failure(error, action=f"get namespace {name}").message)
            return None
        close_response(cast("HTTPResponse", response))
        return True

    def close(self) -> None:
        """Release the client's connections."""
        self._api_client.close()  # type: ignore[no-untyped-call]


def _is_not_found_status(body: object) -> bool:
    """Whether ``body`` is the API server's ``Status`` of reason ``NotFound`` (no proxy's 404)."""
    try:
        document = json.loads(body) if isinstance(body, str | bytes) else None
    except ValueError:
        return False
    return (
        isinstance(document, dict)
        and document.get("kind") == "Status"
        and document.get("reason") == "NotFound"
    )
