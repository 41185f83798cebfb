"""Alembic environment of the Reporter's tables: migrates the connection handed over.

Its own version table (``fleet_alembic_version``): the Reporter's revisions never mix
with License Service's, even in one database.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from license_service.errors import StorageError
from license_service.fleet.fleet_schema import VERSION_TABLE
from license_service.fleet.tables import fleet_metadata


def _main() -> None:
    given = context.config.attributes.get("connection")
    if not isinstance(given, Connection):
        raise StorageError("the Reporter's migrations run from Database.open only")
    context.configure(
        connection=given,
        target_metadata=fleet_metadata,
        render_as_batch=True,
        version_table=VERSION_TABLE,
    )
    with context.begin_transaction():
        context.run_migrations()


_main()
