"""A fake Kubernetes API server for tests: a real HTTP server speaking the real API.

See README.md in this folder for usage and the list of assumptions.
"""

from .client_setup import api_client, client_configuration, write_kubeconfig
from .faults import FaultPlan
from .request_log import RequestRecord
from .server import DEFAULT_NAMESPACES, FakeApiServer
from .statuses import ApiError

__all__ = [
    "DEFAULT_NAMESPACES",
    "ApiError",
    "FakeApiServer",
    "FaultPlan",
    "RequestRecord",
    "api_client",
    "client_configuration",
    "write_kubeconfig",
]
