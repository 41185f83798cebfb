"""Instants in the database are timezone-aware UTC, on every backend.

``utc_instant`` refuses naive datetimes (their zone is a guess) and converts
aware ones to UTC. ``UtcDateTime`` is the column type: PostgreSQL keeps a
``timestamptz``; SQLite keeps the UTC wall-clock text (fixed width, so text
comparison is time order), and reading attaches UTC again.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator

from license_service.errors import StorageError


def utc_instant(value: datetime, *, name: str) -> datetime:
    """Return ``value`` in UTC; raise ``StorageError`` when it has no time zone."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise StorageError(
            f"{name} {value.isoformat()} has no time zone: pass a timezone-aware datetime, "
            "e.g. datetime.now(UTC) or datetime(2026, 11, 28, tzinfo=UTC)"
        )
    return value.astimezone(UTC)


def utc_day(value: datetime) -> date:
    """The UTC calendar day of the aware instant ``value``."""
    return value.astimezone(UTC).date()


def start_of_day(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC instant; naive values are refused before they reach the database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        instant = utc_instant(value, name="timestamp")
        # SQLite has no zone-aware type: store the UTC wall clock.
        return instant.replace(tzinfo=None) if dialect.name == "sqlite" else instant

    def process_result_value(
        self,
        value: Any,
        dialect: Dialect,  # noqa: ARG002 (the same on every backend)
    ) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise StorageError(f"stored instant {value!r} is not a timestamp")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
