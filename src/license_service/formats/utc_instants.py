"""Instants as the API and the Reporter's files write them: UTC, whole seconds, ``Z``
(``2026-11-28T10:00:00Z``); pure."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_text(instant: datetime) -> str:
    """``instant`` (timezone-aware) in UTC to the second, ending in ``Z``."""
    return instant.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def optional_utc_text(instant: datetime | None) -> str | None:
    """``utc_text(instant)``, or ``None`` for no instant."""
    return None if instant is None else utc_text(instant)
