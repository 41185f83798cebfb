"""The status page's line about the replicas (SPEC 12): which one leads, and since when;
on a follower, whose view of the problems and sender it shows, and how old."""

from __future__ import annotations

from license_service.web.probes.health import HealthDocument


def leader_facts(health: HealthDocument) -> list[tuple[str, str]]:
    """``("Leader", "pod-a since …Z (this replica)")``; nothing with a single replica."""
    leader = health.get("leader")
    if leader is None:
        return []
    if leader["leader"] is None:
        shown = "none yet (the replicas are electing one)"
    else:
        since = f" since {leader['leaderSince']}" if leader["leaderSince"] else ""
        whose = "this replica" if leader["isLeader"] else f"this replica is {leader['replica']}"
        shown = f"{leader['leader']}{since} ({whose})"
    view = leader.get("leaderView")
    if view is not None:
        stale = ", stale" if view["stale"] else ""
        shown += (
            f"; problems and sender as {view['writtenBy']} shared them at {view['writtenAt']} "
            f"({view['ageSeconds']} s ago{stale})"
        )
    if leader["lastError"]:
        shown += f"; last election error: {leader['lastError']}"
    return [("Leader", shown)]
