"""Indexes on the daily peak tables by (cluster, row key, day, value), for period queries.

Revision ID: 0002_period_key_indexes
Revises: 0001_initial_schema
Create Date: 2026-11-28

A period query (``store.period_peaks``) groups a period's daily peaks by row key, then
finds per key the earliest day reaching the peak: these indexes hold each key's days
in order with their value, so both steps read the index alone and nothing is sorted.
Existing rows are kept; building the indexes over two years of 1,000 products takes
a few seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from alembic import op

revision: str = "0002_period_key_indexes"
down_revision: str | Sequence[str] | None = "0001_initial_schema"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (row key columns, value column)
_TABLES: Final = {
    "product_daily_peaks": (("product_id", "metric"), "quantity"),
    "bundled_product_daily_peaks": (
        ("cloudpak_id", "cloudpak_metric", "product_id", "metric", "conversion"),
        "measured_quantity",
    ),
    "service_daily_peaks": (
        ("cloudpak_id", "cloudpak_metric", "product_id", "metric", "service_id"),
        "value",
    ),
}


def upgrade() -> None:
    """Create one (cluster, row key, day, value) index per daily peak table."""
    for table, (key, value) in _TABLES.items():
        op.create_index(
            f"ix_{table}_key_day",
            table,
            ["cluster_id", *key, "day", value],
        )


def downgrade() -> None:
    """Drop the indexes."""
    for table in _TABLES:
        op.drop_index(f"ix_{table}_key_day", table_name=table)
