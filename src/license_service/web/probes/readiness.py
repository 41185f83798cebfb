"""``/readyz``: may Kubernetes send traffic to this instance (SPEC 3.9, 7)?

Ready when the database answers a read, and the cluster source has produced a
synchronised view at least once since the service started (dump files and the
simulated cluster are ready as soon as they have a state). Once synchronised, a
later loss of sync does NOT make the instance unready: the stored reports can still
be served, and ``/health`` reports the loss (DEGRADED). ``/livez`` only says the
process answers; it never touches the database, so a slow database restarts nothing.

``database_problem`` (a read of the store) is shared with ``/health``, which reports a
database that stopped answering as DEGRADED: it says why reports answer 503.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from license_service.cluster.source import ClusterState
from license_service.errors import StorageError
from license_service.store.clusters import cluster_ids
from license_service.store.database import Database
from license_service.web.error_responses import first_line_of

_READY_WITHOUT_SYNC: Final = frozenset({"dump", "simulated"})


class Readiness:
    """Remembers whether the source was ever synchronised; ``problem`` says why not ready."""

    def __init__(self, database: Database, source_state: Callable[[], ClusterState | None]) -> None:
        self._database = database
        self._source_state = source_state
        self._synced_once = False

    def problem(self) -> str | None:
        """Why the instance is not ready, or ``None`` when it is; blocking (reads the database)."""
        unreachable = database_problem(self._database)
        if unreachable is not None:
            return unreachable
        if not self._synced_once:
            state = self._source_state()
            if state is None:
                return "the cluster source has not started yet"
            if not (state.synced or state.source in _READY_WITHOUT_SYNC):
                cause = f" (last error: {state.last_error})" if state.last_error else ""
                return f"the {state.source} source has not synchronised yet{cause}"
            self._synced_once = True
        return None


def database_problem(database: Database) -> str | None:
    """Why the database cannot be read now (unreachable, refused), or ``None``; blocking."""
    try:
        with database.read() as connection:
            cluster_ids(connection)
    except StorageError as exc:
        return (
            f"the database does not answer: {first_line_of(exc)}; samples cannot be "
            "stored and reports answer 503 until it does"
        )
    return None
