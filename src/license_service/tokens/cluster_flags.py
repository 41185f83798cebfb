"""The cluster flags of the ``token`` commands: which Secret of which cluster they act on.

Kept apart from ``cluster_secret`` (which connects) so the command line can read its
flags without importing the Kubernetes client.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from license_service.errors import ConfigurationError


@dataclass(frozen=True, slots=True)
class ClusterTokenFlags:
    """The cluster flags of a ``token`` command; ``given`` says whether any chose a cluster."""

    kubeconfig: Path | None = None
    context: str | None = None
    in_cluster: bool = False
    namespace: str | None = None
    secret: str | None = None

    @property
    def given(self) -> bool:
        """Whether a cluster is chosen (``--kubeconfig``, ``--context`` or ``--in-cluster``)."""
        return self.kubeconfig is not None or self.context is not None or self.in_cluster

    @property
    def named_only(self) -> bool:
        """Whether ``--namespace`` or ``--secret`` was given without a way to reach a cluster."""
        return not self.given and (self.namespace is not None or self.secret is not None)

    def check(self) -> None:
        """Raise ``ConfigurationError`` for flags that contradict each other."""
        if self.in_cluster and (self.kubeconfig is not None or self.context is not None):
            raise ConfigurationError(
                "--in-cluster uses the pod's service account, --kubeconfig/--context a "
                "kubeconfig; give one or the other"
            )

    def command_flags(self, *, namespace: str, secret: str) -> str:
        """The flags that name the same Secret again, for messages (`` --kubeconfig k -n ns``)."""
        flags = " --in-cluster" if self.in_cluster else ""
        flags += f" --kubeconfig {self.kubeconfig}" if self.kubeconfig is not None else ""
        flags += f" --context {self.context}" if self.context is not None else ""
        flags += f" --namespace {namespace}"
        return flags + (f" --secret {secret}" if self.secret is not None else "")
