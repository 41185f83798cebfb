"""Joining the leader election at start (``serve --leader-election``, SPEC 12).

``elector_for`` builds this replica's ``LeaderElector`` on the Lease
``license-service-leader`` in the service's namespace, through a Lease client of its
own on the cluster connection. ``ReplicaElection`` keeps both, so the service closes
the client when it stops. Nothing runs here: ``service`` runs the election.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from license_service import __version__
from license_service.cluster.kubernetes.leases import LeaseClient
from license_service.election.lease_records import LEASE_NAME, ReplicaId
from license_service.leadership.elector import LeaderElector
from license_service.runtime.kubernetes_backends import KubernetesBackends
from license_service.runtime.options import ServeOptions


@dataclass(frozen=True, slots=True)
class ReplicaElection:
    """This replica's elector and the Lease client it uses."""

    elector: LeaderElector
    leases: LeaseClient

    def close(self) -> None:
        """Release the Lease client's connections (after the election stopped)."""
        self.leases.close()


def elector_for(
    kubernetes: KubernetesBackends, options: ServeOptions, *, clock: Callable[[], datetime]
) -> ReplicaElection:
    """The elector of the replica ``options.replica_id`` in the service's namespace."""
    identity = ReplicaId(options.replica_id or "")
    leases = LeaseClient(
        kubernetes.connection.api_client,
        namespace=kubernetes.namespace,
        name=LEASE_NAME,
        identity=identity,
        version=__version__,
    )
    return ReplicaElection(LeaderElector(leases, identity=identity, wall_clock=clock), leases)
