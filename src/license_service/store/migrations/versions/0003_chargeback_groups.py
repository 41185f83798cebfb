"""Chargeback groups (SPEC 8): the groups' daily peak tables, and excludeNamespace in the history.

Revision ID: 0003_chargeback_groups
Revises: 0002_period_key_indexes
Create Date: 2026-12-06

Each group table is its usage table's daily peaks with ``group_name`` as the first key
column (``metering.usage_rows.CHARGEBACK_*``); raw rows of groups are not kept. The
settings history gains ``exclude_namespace`` (the items, comma-separated; "" for
none), so existing rows read as "nothing excluded", which was true. Written out in
full, not from ``tables.py``; a test checks that both agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import sqlalchemy as sa
from alembic import op

revision: str = "0003_chargeback_groups"
down_revision: str | Sequence[str] | None = "0002_period_key_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INSTANT = sa.DateTime(timezone=True)

# table -> (row key columns after group_name, name columns, value column)
_TABLES: Final = {
    "chargeback_product_daily_peaks": (("product_id", "metric"), ("product_name",), "quantity"),
    "chargeback_bundled_product_daily_peaks": (
        ("cloudpak_id", "cloudpak_metric", "product_id", "metric", "conversion"),
        ("product_name", "cloudpak_name", "cloudpak_version"),
        "measured_quantity",
    ),
    "chargeback_service_daily_peaks": (
        ("cloudpak_id", "cloudpak_metric", "product_id", "metric", "service_id"),
        ("product_name", "service_name"),
        "value",
    ),
}


def upgrade() -> None:
    """Create the group tables; add ``exclude_namespace`` to the settings history."""
    for name, (row_key, names, value) in _TABLES.items():
        key = ("group_name", *row_key)
        op.create_table(
            name,
            sa.Column("cluster_id", sa.String(), nullable=False),
            sa.Column("day", sa.Date(), nullable=False),
            *(sa.Column(column, sa.String(), nullable=False) for column in (*key, *names)),
            sa.Column("names_at", _INSTANT, nullable=False),
            sa.Column(value, sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("cluster_id", "day", *key, name=f"pk_{name}"),
        )
        op.create_index(f"ix_{name}_day", name, ["day"])
        op.create_index(f"ix_{name}_key_day", name, ["cluster_id", *key, "day", value])
    with op.batch_alter_table("settings_history") as batch:
        batch.add_column(
            sa.Column("exclude_namespace", sa.Text(), nullable=False, server_default="")
        )


def downgrade() -> None:
    """Drop the group tables and the history's ``exclude_namespace``."""
    with op.batch_alter_table("settings_history") as batch:
        batch.drop_column("exclude_namespace")
    for name in _TABLES:
        op.drop_table(name)
