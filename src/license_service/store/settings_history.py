"""The history of the settings that change measured results (SPEC 2.5, 5 ``data_condition``).

A row is written only when the settings differ from the latest recorded ones, so the
history reads as "since when" each setting was in force. Changes are recorded in time
order; the table is small and is not pruned (the change in force must stay known).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Row, insert, select

from license_service.errors import StorageError
from license_service.metering.cluster_view import ClusterId
from license_service.metering.settings import CappingSource, MeteringSettings
from license_service.store.instants import utc_instant
from license_service.store.tables import settings_history as history


@dataclass(frozen=True, slots=True)
class SettingsChange:
    """The settings in force from ``at`` on (until the next change)."""

    at: datetime
    settings: MeteringSettings


def record_settings(
    connection: Connection, *, cluster_id: ClusterId, at: datetime, settings: MeteringSettings
) -> bool:
    """Record ``settings`` as in force from ``at``; ``True`` if they changed (else no write).

    Raises ``StorageError`` for a naive ``at`` or one not after the latest recorded change.
    """
    instant = utc_instant(at, name="at")
    latest = connection.execute(
        select(history)
        .where(history.c.cluster_id == cluster_id)
        .order_by(history.c.changed_at.desc())
        .limit(1)
    ).first()
    if latest is not None:
        if _settings(latest) == settings:
            return False
        if instant <= latest.changed_at:
            raise StorageError(
                f"settings change of cluster {cluster_id!r} at {instant.isoformat()} is not "
                f"after the latest recorded change at {latest.changed_at.isoformat()}: "
                "record changes in time order"
            )
    connection.execute(
        insert(history).values(
            cluster_id=cluster_id,
            changed_at=instant,
            threads_per_core=settings.threads_per_core,
            node_cpu_capping=settings.node_cpu_capping,
            capping_source=settings.capping_source,
            default_pvu_per_core=settings.default_pvu_per_core,
            exclude_namespace=",".join(settings.excluded_namespaces),
        )
    )
    return True


def settings_history(
    connection: Connection, *, cluster_id: ClusterId, until: datetime
) -> list[SettingsChange]:
    """Every recorded change up to and including ``until``, oldest first."""
    instant = utc_instant(until, name="until")
    rows = connection.execute(
        select(history)
        .where(history.c.cluster_id == cluster_id, history.c.changed_at <= instant)
        .order_by(history.c.changed_at)
    ).all()
    return [SettingsChange(row.changed_at, _settings(row)) for row in rows]


def _settings(row: Row[Any]) -> MeteringSettings:
    return MeteringSettings(
        threads_per_core=row.threads_per_core,
        node_cpu_capping=bool(row.node_cpu_capping),
        capping_source=cast(CappingSource, row.capping_source),
        default_pvu_per_core=row.default_pvu_per_core,
        # Items hold no comma (the setting is split at commas), so the join reads back.
        excluded_namespaces=tuple(row.exclude_namespace.split(","))
        if row.exclude_namespace
        else (),
    )


def in_force_since(
    history: Sequence[SettingsChange], value: Callable[[MeteringSettings], object]
) -> datetime | None:
    """When the latest ``value`` of one setting came into force (unchanged since); ``None``
    for an empty history."""
    if not history:
        return None
    current = value(history[-1].settings)
    since = history[-1].at
    for change in reversed(history):
        if value(change.settings) != current:
            break
        since = change.at
    return since
