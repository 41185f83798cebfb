"""The namespace the service's own pod runs in, as the kubelet tells it.

Every pod with a service-account token mounted has its namespace in the file
``namespace`` beside the token; outside a pod there is no such file.
"""

from __future__ import annotations

from pathlib import Path

from license_service.cluster.kubernetes.connection import SERVICE_ACCOUNT_DIRECTORY


def pod_namespace(service_account_directory: Path = SERVICE_ACCOUNT_DIRECTORY) -> str | None:
    """The pod's namespace, or ``None`` outside a pod (or when the file is unreadable or empty)."""
    try:
        text = (service_account_directory / "namespace").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return text.strip() or None
