"""The Reporter's tables (SPEC 11), its own: a Reporter database is not a License Service one.

Named ``fleet_*`` and migrated by their own Alembic tree and version table
(``fleet_alembic_version``, ``fleet_schema.FLEET_SCHEMA``), so a Reporter may even share
a PostgreSQL schema with a License Service without either touching the other's tables.

- ``fleet_clusters``: each cluster that pushed or was imported; its signing-key
  fingerprint (and public key) pinned at its first push, and the key refused since, if
  any (``pending_*``), until ``license-service reporter trust`` accepts it.
- ``fleet_refusals``: every push or import refused for its key (listed on ``/status``).
- ``fleet_days``: which days each cluster reported, whether complete, how (push or
  snapshot import), when, and its sampling coverage.
- ``fleet_product_daily_peaks`` / ``fleet_bundled_product_daily_peaks`` /
  ``fleet_service_daily_peaks``: the clusters' daily peak rows, from the cluster row
  specs (``metering.fleet_rows``): cluster first, then the row's key, names and value.
- ``fleet_product_daily_sums`` / ``fleet_bundled_product_daily_sums`` /
  ``fleet_service_daily_sums``: per day and row (key and names), the sum over the
  clusters and how many contribute, moved by every push in its transaction by its own
  rows' differences, so a fleet report reads days x keys rows, never x clusters.
- ``fleet_uploads``: the accepted uploads each cluster sent with its days.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from license_service.metering.fleet_rows import CLUSTER_ROWS
from license_service.metering.row_specs import RowSpec
from license_service.metering.usage_rows import BUNDLED_PRODUCT_ROWS, PRODUCT_ROWS, SERVICE_ROWS
from license_service.store.instants import UtcDateTime
from license_service.store.tables import NAMING_CONVENTION

fleet_metadata: Final = MetaData(naming_convention=NAMING_CONVENTION)

fleet_clusters: Final = Table(
    "fleet_clusters",
    fleet_metadata,
    Column("cluster_id", String, primary_key=True),
    Column("cluster_name", String, nullable=False),
    Column("service_version", String, nullable=False),
    Column("last_push_at", UtcDateTime, nullable=True),
    Column("key_fingerprint", String, nullable=False),
    Column("public_key_pem", Text, nullable=False),
    Column("pending_fingerprint", String, nullable=True),
    Column("pending_public_key_pem", Text, nullable=True),
    Column("pending_since", UtcDateTime, nullable=True),
)

fleet_refusals: Final = Table(
    "fleet_refusals",
    fleet_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("cluster_id", String, nullable=False),
    Column("refused_at", UtcDateTime, nullable=False),
    Column("source", String, nullable=False),
    Column("fingerprint", String, nullable=False),
    Column("pinned_fingerprint", String, nullable=False),
    Index("ix_fleet_refusals_cluster_id", "cluster_id"),
)

fleet_days: Final = Table(
    "fleet_days",
    fleet_metadata,
    Column("cluster_id", String, nullable=False),
    Column("day", Date, nullable=False),
    Column("complete", Boolean, nullable=False),
    Column("source", String, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("samples_taken", BigInteger, nullable=True),
    Column("samples_expected", BigInteger, nullable=True),
    PrimaryKeyConstraint("cluster_id", "day"),
    Index("ix_fleet_days_day", "day"),
)


def _peak_table(name: str, rows: RowSpec[Any]) -> Table:
    """A cluster's daily peaks of ``rows`` (a cluster row spec): cluster, day, key, names, value."""
    stored_as = {column.database_column: column.encoding.stored_as for column in rows.stored}
    return Table(
        name,
        fleet_metadata,
        Column("day", Date, nullable=False),
        *(
            Column(c, BigInteger if stored_as[c] == "integer" else String, nullable=False)
            for c in rows.database_columns
        ),
        PrimaryKeyConstraint(rows.database_key[0], "day", *rows.database_key[1:]),
        Index(f"ix_{name}_day", "day"),
    )


FLEET_PEAK_TABLES: Final[Mapping[RowSpec[Any], Table]] = {
    PRODUCT_ROWS: _peak_table("fleet_product_daily_peaks", CLUSTER_ROWS[PRODUCT_ROWS]),
    BUNDLED_PRODUCT_ROWS: _peak_table(
        "fleet_bundled_product_daily_peaks", CLUSTER_ROWS[BUNDLED_PRODUCT_ROWS]
    ),
    SERVICE_ROWS: _peak_table("fleet_service_daily_peaks", CLUSTER_ROWS[SERVICE_ROWS]),
}
"""Each usage row spec's table of the clusters' daily peaks."""


def _sum_table(name: str, rows: RowSpec[Any]) -> Table:
    """The fleet's daily sums of ``rows`` (a usage row spec): day, key, names, summed value."""
    stored_as = {column.database_column: column.encoding.stored_as for column in rows.stored}
    return Table(
        name,
        fleet_metadata,
        Column("day", Date, nullable=False),
        *(
            Column(c, BigInteger if stored_as[c] == "integer" else String, nullable=False)
            for c in rows.database_columns
        ),
        # How many clusters' rows the sum holds: 0 means the row is gone from every one.
        Column("contributors", BigInteger, nullable=False),
        PrimaryKeyConstraint("day", *rows.database_key, *rows.database_names),
    )


FLEET_SUM_TABLES: Final[Mapping[RowSpec[Any], Table]] = {
    PRODUCT_ROWS: _sum_table("fleet_product_daily_sums", PRODUCT_ROWS),
    BUNDLED_PRODUCT_ROWS: _sum_table("fleet_bundled_product_daily_sums", BUNDLED_PRODUCT_ROWS),
    SERVICE_ROWS: _sum_table("fleet_service_daily_sums", SERVICE_ROWS),
}
"""Each usage row spec's table of the fleet's daily sums."""

fleet_uploads: Final = Table(
    "fleet_uploads",
    fleet_metadata,
    Column("cluster_id", String, nullable=False),
    Column("day", Date, nullable=False),
    Column("position", Integer, nullable=False),
    Column("received_at", String, nullable=False),
    Column("upload_day", Date, nullable=False),
    Column("product_id", String, nullable=False),
    Column("product_name", String, nullable=False),
    Column("product_metric", String, nullable=False),
    Column("metric_value", String, nullable=False),
    Column("aggregation_policy", String, nullable=False),
    Column("cloudpak_id", String, nullable=False),
    Column("submission_id", String, nullable=False),
    PrimaryKeyConstraint("cluster_id", "day", "position"),
)
