"""The Reporter's schema: its migrations and version table, for ``Database.open``."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from license_service.store.database import Database, Schema

VERSION_TABLE: Final = "fleet_alembic_version"
FLEET_SCHEMA: Final = Schema(
    Path(__file__).resolve().parent / "migrations",
    version_table=VERSION_TABLE,
    holder="License Service Reporter",
)


def open_fleet_database(url: str) -> Database:
    """The Reporter's database at ``url``, migrated to its newest schema.

    On PostgreSQL every write announces itself (``Database.announce_writes``): the
    Reporter's replicas keep report bodies until any process, ``reporter trust`` and
    ``reporter import`` included, writes the fleet's data.
    """
    database = Database.open(url, schema=FLEET_SCHEMA)
    database.announce_writes()
    return database
