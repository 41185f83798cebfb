"""The sender's progress per Reporter URL (SPEC 11), kept in the service's own store.

``acknowledged_through`` is the last complete day the Reporter said it holds with no
day missing before it; the next push starts the day after it. It only moves forward:
an answer naming an earlier day (a Reporter restored from an older backup) is kept
as given, so the days after it are sent again. The caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, insert, select, update

from license_service.store.instants import utc_instant
from license_service.store.tables import reporter_pushes


@dataclass(frozen=True, slots=True)
class PushProgress:
    """What a Reporter acknowledged, and when a push to it last succeeded."""

    acknowledged_through: date | None
    last_push_at: datetime | None


def push_progress(connection: Connection, *, reporter_url: str) -> PushProgress:
    """The progress of pushes to ``reporter_url`` (both ``None`` before the first)."""
    row = connection.execute(
        select(reporter_pushes.c.acknowledged_through, reporter_pushes.c.last_push_at).where(
            reporter_pushes.c.reporter_url == reporter_url
        )
    ).first()
    if row is None:
        return PushProgress(None, None)
    return PushProgress(row.acknowledged_through, row.last_push_at)


def record_push(
    connection: Connection,
    *,
    reporter_url: str,
    acknowledged_through: date | None,
    pushed_at: datetime,
) -> None:
    """Record a push the Reporter accepted, and the day it now acknowledges through."""
    values = {
        "acknowledged_through": acknowledged_through,
        "last_push_at": utc_instant(pushed_at, name="pushed_at"),
    }
    changed = connection.execute(
        update(reporter_pushes)
        .where(reporter_pushes.c.reporter_url == reporter_url)
        .values(**values)
    )
    if changed.rowcount == 0:
        connection.execute(insert(reporter_pushes).values(reporter_url=reporter_url, **values))
