"""The status page's line about the sender (SPEC 11): where it pushes and how it went."""

from __future__ import annotations

from license_service.web.probes.health import HealthDocument


def sender_facts(health: HealthDocument) -> list[tuple[str, str]]:
    """``("Reporter", "https://… acknowledged through …; last push …")``; nothing when off."""
    sender = health.get("sender")
    if sender is None:
        return []
    url = sender["reporterURL"]
    if not sender["certificatesVerified"] and url.startswith("https:"):
        url += " (certificate not verified)"
    through = sender["acknowledgedThrough"]
    acknowledged = f"acknowledged through {through}" if through else "nothing acknowledged yet"
    last = f"last push {sender['lastPushAt']}" if sender["lastPushAt"] else "no push yet"
    shown = f"{url}; {acknowledged}; {last}"
    if sender["lastError"]:
        shown += f"; last error ({sender['lastErrorAt']}): {sender['lastError']}"
    return [("Reporter", shown)]
