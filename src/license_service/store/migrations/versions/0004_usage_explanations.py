"""Usage explanations: the breakdown behind each day's peak of a product (SPEC 9).

Revision ID: 0004_usage_explanations
Revises: 0003_chargeback_groups
Create Date: 2026-12-06

One row per cluster, day, chargeback group ('' for the whole cluster) and explained
usage row (a stand-alone product, or a bundled product with its Cloud Pak, Cloud Pak
metric and ratio): the sample that first reached the day's peak, its quantity, the
threads per core in force, the total capped millicores, and the contributions as
zlib-compressed JSON. Kept as long as daily peaks; existing rows are untouched.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_usage_explanations"
down_revision: str | Sequence[str] | None = "0003_chargeback_groups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = ("cloudpak_id", "cloudpak_metric", "product_id", "metric", "conversion")


def upgrade() -> None:
    """Create ``usage_explanations`` and its index by day (for retention)."""
    op.create_table(
        "usage_explanations",
        sa.Column("cluster_id", sa.String(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("group_name", sa.String(), nullable=False),
        *(sa.Column(name, sa.String(), nullable=False) for name in _KEY),
        sa.Column("product_name", sa.String(), nullable=False),
        sa.Column("sample_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("metric_quantity", sa.BigInteger(), nullable=False),
        sa.Column("threads_per_core", sa.Integer(), nullable=False),
        sa.Column("total_millicores", sa.BigInteger(), nullable=False),
        sa.Column("contributions", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint(
            "cluster_id", "day", "group_name", *_KEY, name="pk_usage_explanations"
        ),
    )
    op.create_index("ix_usage_explanations_day", "usage_explanations", ["day"])


def downgrade() -> None:
    """Drop the table (explanations are lost; usage and peaks are not)."""
    op.drop_index("ix_usage_explanations_day", table_name="usage_explanations")
    op.drop_table("usage_explanations")
