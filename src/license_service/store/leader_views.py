"""The leader's view shared with the other replicas (SPEC 12): one row per cluster.

Only the leader samples and pushes, so only it knows the problem sections of its
latest measurement and the sender's state. It writes them here as one JSON document
(``write_leader_view``; ``touch_leader_view`` when nothing changed, so the followers
can tell the view is still current), and followers read it (``stored_leader_view``).
The store does not look inside the document. The caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from license_service.metering.cluster_view import ClusterId
from license_service.store.instants import utc_instant
from license_service.store.tables import leader_views


@dataclass(frozen=True, slots=True)
class StoredLeaderView:
    """The document the replica ``leader`` wrote at ``written_at`` (its clock)."""

    leader: str
    written_at: datetime
    document: str


def write_leader_view(
    connection: Connection,
    *,
    cluster_id: ClusterId,
    leader: str,
    written_at: datetime,
    document: str,
) -> None:
    """Keep ``document`` as the view of ``cluster_id``, written by ``leader`` at ``written_at``."""
    values = {
        "leader": leader,
        "written_at": utc_instant(written_at, name="written_at"),
        "document": document,
    }
    changed = connection.execute(
        update(leader_views).where(leader_views.c.cluster_id == cluster_id).values(**values)
    )
    if changed.rowcount == 0:
        connection.execute(insert(leader_views).values(cluster_id=cluster_id, **values))


def touch_leader_view(
    connection: Connection, *, cluster_id: ClusterId, leader: str, written_at: datetime
) -> bool:
    """Say the view ``leader`` wrote is still current at ``written_at``; whether it was
    there to touch (``False``: none, or another replica's: write it whole)."""
    changed = connection.execute(
        update(leader_views)
        .where(leader_views.c.cluster_id == cluster_id, leader_views.c.leader == leader)
        .values(written_at=utc_instant(written_at, name="written_at"))
    )
    return changed.rowcount > 0


def stored_leader_view(connection: Connection, *, cluster_id: ClusterId) -> StoredLeaderView | None:
    """The view of ``cluster_id`` as last written, or ``None`` before the first."""
    row = connection.execute(
        select(leader_views.c.leader, leader_views.c.written_at, leader_views.c.document).where(
            leader_views.c.cluster_id == cluster_id
        )
    ).first()
    if row is None:
        return None
    return StoredLeaderView(row.leader, row.written_at, row.document)
