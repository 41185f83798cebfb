"""Whether a cluster state may be sampled: synchronised and recent enough (SPEC 2.7).

A sample must reflect the cluster as it is; a view that is not synchronised, or
that has not been confirmed for longer than ``MAX_VIEW_AGE``, yields a recorded
gap instead. ``unusable_reason`` is pure.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from license_service.cluster.source import ClusterState

MAX_VIEW_AGE: Final = timedelta(minutes=15)


def unusable_reason(
    state: ClusterState, now: datetime, *, max_age: timedelta = MAX_VIEW_AGE
) -> str | None:
    """Why ``state`` cannot be sampled at ``now``, or ``None`` when it can; pure."""
    cause = f" (last error: {state.last_error})" if state.last_error else ""
    if not state.synced:
        return f"the {state.source} source has not synchronised its view of the cluster{cause}"
    age = now - state.observed_at
    if age > max_age:
        return (
            f"the {state.source} source's view of the cluster is {_minutes(age)} old "
            f"(last current at {state.observed_at.isoformat()}), more than the "
            f"{_minutes(max_age)} allowed{cause}"
        )
    return None


def _minutes(duration: timedelta) -> str:
    minutes = duration.total_seconds() / 60
    return f"{minutes:.0f} minutes" if minutes >= 10 else f"{minutes:.1f} minutes"
