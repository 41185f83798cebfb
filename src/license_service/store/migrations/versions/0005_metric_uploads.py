"""Uploaded usage (SPEC 10): every accepted upload item, and each product's one policy.

Revision ID: 0005_metric_uploads
Revises: 0002_period_key_indexes
Create Date: 2026-12-06

``metric_uploads`` keeps each accepted item as received (day values are computed on
read, so concurrent ``ADD`` uploads never overwrite each other); the unique
(cluster, submission id) makes a resent submission a no-op. ``upload_policies`` holds
the policy of each (cluster, product, metric): its primary key is what concurrent
first uploads with different policies meet on. Existing tables are untouched.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_metric_uploads"
down_revision: str | Sequence[str] | None = "0002_period_key_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``metric_uploads`` and ``upload_policies``."""
    op.create_table(
        "metric_uploads",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("cluster_id", sa.String(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("product_id", sa.String(), nullable=False),
        sa.Column("product_name", sa.String(), nullable=False),
        sa.Column("metric", sa.String(), nullable=False),
        sa.Column("metric_value", sa.String(), nullable=False),
        sa.Column("aggregation_policy", sa.String(), nullable=False),
        sa.Column("cloudpak_id", sa.String(), nullable=False),
        sa.Column("cloudpak_name", sa.String(), nullable=False),
        sa.Column("cloudpak_metric", sa.String(), nullable=False),
        sa.Column("conversion", sa.String(), nullable=False),
        sa.Column("submission_id", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_metric_uploads"),
        sa.UniqueConstraint("cluster_id", "submission_id", name="uq_metric_uploads_cluster_id"),
    )
    op.create_index("ix_metric_uploads_cluster_day", "metric_uploads", ["cluster_id", "day"])
    op.create_table(
        "upload_policies",
        sa.Column("cluster_id", sa.String(), nullable=False),
        sa.Column("product_id", sa.String(), nullable=False),
        sa.Column("metric", sa.String(), nullable=False),
        sa.Column("aggregation_policy", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("cluster_id", "product_id", "metric", name="pk_upload_policies"),
    )


def downgrade() -> None:
    """Drop the two tables."""
    op.drop_table("upload_policies")
    op.drop_index("ix_metric_uploads_cluster_day", table_name="metric_uploads")
    op.drop_table("metric_uploads")
