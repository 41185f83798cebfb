"""What every source of cluster state offers: the current view and how far to trust it.

Sources (the Kubernetes watch, dump files, the simulated cluster) differ in how
they learn about the cluster; the sampler only needs the latest ``ClusterState``.
A state says whether the view is synchronised and when it was last known to be
current, so the sampler can refuse to sample a stale view (SPEC 2.7).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from license_service.metering.cluster_view import ClusterId, ClusterView

SourceKind = Literal["kubernetes", "dump", "simulated"]


@dataclass(frozen=True, slots=True)
class ClusterState:
    """The view of a cluster as a source knows it now.

    ``observed_at`` (timezone-aware) is when the view was last known to be current;
    ``last_error`` describes the latest failure to read the cluster, if any.
    """

    view: ClusterView
    synced: bool
    observed_at: datetime
    cluster_id: ClusterId
    source: SourceKind
    last_error: str | None = None

    def __post_init__(self) -> None:
        if self.observed_at.tzinfo is None:
            # Comparing naive and aware datetimes fails later, far from the cause.
            raise ValueError(
                f"observed_at {self.observed_at.isoformat()} has no timezone; pass a UTC datetime"
            )


class ClusterSource(Protocol):
    """Anything that can tell the current state of one cluster.

    ``current`` must be cheap and must not block on the network: it returns what
    the source already knows. The sampler calls it from a worker thread.
    """

    def current(self) -> ClusterState:
        """Return the latest known state of the cluster."""
        ...
