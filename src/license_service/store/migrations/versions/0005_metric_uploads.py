"""Uploaded usage (SPEC 10): every accepted upload item, and each product's one policy.

Revision ID: 0005_metric_uploads
Revises: 0004_usage_explanations
Create Date: 2026-12-06

``metric_uploads`` keeps each accepted item as received; the day values they make
are written into the daily peak tables. The unique
(cluster, submission id) makes a resent submission a no-op. ``upload_policies`` holds
the policy of each (cluster, product, metric): its primary key is what concurrent
first uploads with different policies meet on. ``cloudpak_measured_sums`` and
``cloudpak_uploaded_sums`` keep, per day and Cloud Pak, the exact converted sums its
day value is rounded up from (days sampled before this revision have no measured sum:
their stored Cloud Pak peak stands in). Existing tables are untouched.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_metric_uploads"
down_revision: str | Sequence[str] | None = "0004_usage_explanations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``metric_uploads``, ``upload_policies`` and the Cloud Pak sums."""
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
    for table, value in (
        ("cloudpak_measured_sums", "measured_sum"),
        ("cloudpak_uploaded_sums", "uploaded_sum"),
    ):
        op.create_table(
            table,
            sa.Column("cluster_id", sa.String(), nullable=False),
            sa.Column("day", sa.Date(), nullable=False),
            sa.Column("cloudpak_id", sa.String(), nullable=False),
            sa.Column("cloudpak_metric", sa.String(), nullable=False),
            sa.Column(value, sa.String(), nullable=False),
            sa.PrimaryKeyConstraint(
                "cluster_id", "day", "cloudpak_id", "cloudpak_metric", name=f"pk_{table}"
            ),
        )


def downgrade() -> None:
    """Drop the four tables."""
    op.drop_table("cloudpak_uploaded_sums")
    op.drop_table("cloudpak_measured_sums")
    op.drop_table("upload_policies")
    op.drop_index("ix_metric_uploads_cluster_day", table_name="metric_uploads")
    op.drop_table("metric_uploads")
