"""The Reporter's tables (SPEC 11): clusters, refusals, reported days, daily peaks and the
fleet's daily sums, uploads.

Revision ID: r0001_reporter_schema
Revises: (none: the Reporter's own tree)
Create Date: 2026-12-06

Written out in full, not from ``fleet/tables.py``; a test checks that both agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import sqlalchemy as sa
from alembic import op

revision: str = "r0001_reporter_schema"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INSTANT = sa.DateTime(timezone=True)

# table -> (row key columns after cluster_id, name columns, value column)
_PEAK_TABLES: Final = {
    "fleet_product_daily_peaks": (("product_id", "metric"), ("product_name",), "quantity"),
    "fleet_bundled_product_daily_peaks": (
        ("cloudpak_id", "cloudpak_metric", "product_id", "metric", "conversion"),
        ("product_name", "cloudpak_name", "cloudpak_version"),
        "measured_quantity",
    ),
    "fleet_service_daily_peaks": (
        ("cloudpak_id", "cloudpak_metric", "product_id", "metric", "service_id"),
        ("product_name", "service_name"),
        "value",
    ),
}


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=nullable)


def upgrade() -> None:
    """Create every table of the Reporter."""
    op.create_table(
        "fleet_clusters",
        _text("cluster_id"),
        _text("cluster_name"),
        _text("service_version"),
        sa.Column("last_push_at", _INSTANT, nullable=True),
        _text("key_fingerprint"),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        _text("pending_fingerprint", nullable=True),
        sa.Column("pending_public_key_pem", sa.Text(), nullable=True),
        sa.Column("pending_since", _INSTANT, nullable=True),
        sa.PrimaryKeyConstraint("cluster_id", name="pk_fleet_clusters"),
    )
    op.create_table(
        "fleet_refusals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _text("cluster_id"),
        sa.Column("refused_at", _INSTANT, nullable=False),
        _text("source"),
        _text("fingerprint"),
        _text("pinned_fingerprint"),
        sa.PrimaryKeyConstraint("id", name="pk_fleet_refusals"),
    )
    op.create_index("ix_fleet_refusals_cluster_id", "fleet_refusals", ["cluster_id"])
    op.create_table(
        "fleet_days",
        _text("cluster_id"),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        _text("source"),
        sa.Column("received_at", _INSTANT, nullable=False),
        sa.Column("samples_taken", sa.BigInteger(), nullable=True),
        sa.Column("samples_expected", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("cluster_id", "day", name="pk_fleet_days"),
    )
    op.create_index("ix_fleet_days_day", "fleet_days", ["day"])
    for name, (row_key, names, value) in _PEAK_TABLES.items():
        op.create_table(
            name,
            sa.Column("day", sa.Date(), nullable=False),
            *(_text(column) for column in ("cluster_id", *row_key, *names)),
            sa.Column(value, sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("cluster_id", "day", *row_key, name=f"pk_{name}"),
        )
        op.create_index(f"ix_{name}_day", name, ["day"])
    for name, (row_key, names, value) in _PEAK_TABLES.items():
        sums = name.replace("_peaks", "_sums")
        op.create_table(
            sums,
            sa.Column("day", sa.Date(), nullable=False),
            *(_text(column) for column in (*row_key, *names)),
            sa.Column(value, sa.BigInteger(), nullable=False),
            sa.Column("contributors", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("day", *row_key, *names, name=f"pk_{sums}"),
        )
    op.create_table(
        "fleet_uploads",
        _text("cluster_id"),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _text("received_at"),
        sa.Column("upload_day", sa.Date(), nullable=False),
        *(
            _text(column)
            for column in (
                "product_id",
                "product_name",
                "product_metric",
                "metric_value",
                "aggregation_policy",
                "cloudpak_id",
                "submission_id",
            )
        ),
        sa.PrimaryKeyConstraint("cluster_id", "day", "position", name="pk_fleet_uploads"),
    )


def downgrade() -> None:
    """Drop every table of the Reporter."""
    sums = [name.replace("_peaks", "_sums") for name in _PEAK_TABLES]
    for name in ("fleet_uploads", *sums, *_PEAK_TABLES, "fleet_days", "fleet_refusals"):
        op.drop_table(name)
    op.drop_table("fleet_clusters")
