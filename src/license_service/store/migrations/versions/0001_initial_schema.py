"""Initial schema: samples, daily peaks, sampling coverage and settings history.

Revision ID: 0001_initial_schema
Revises:
Create Date: 2026-11-28

Written out in full rather than from ``tables.py`` so that later changes to the
metadata never rewrite history; a test checks that both agree.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial_schema"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INSTANT = sa.DateTime(timezone=True)


def _cluster() -> sa.Column[str]:
    return sa.Column("cluster_id", sa.String(), nullable=False)


def _sample(table: str) -> sa.Column[int]:
    return sa.Column(
        "sample_id",
        sa.Integer(),
        sa.ForeignKey("samples.id", name=f"fk_{table}_sample_id_samples", ondelete="CASCADE"),
        nullable=False,
    )


def _text(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=False)


def upgrade() -> None:
    """Create every table of the store."""
    op.create_table(
        "samples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _cluster(),
        sa.Column("taken_at", _INSTANT, nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_samples"),
        sa.UniqueConstraint("cluster_id", "taken_at", name="uq_samples_cluster_id"),
    )
    op.create_index("ix_samples_taken_at", "samples", ["taken_at"])

    op.create_table(
        "sample_products",
        _sample("sample_products"),
        _cluster(),
        _text("product_id"),
        _text("metric"),
        _text("product_name"),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("sample_id", "product_id", "metric", name="pk_sample_products"),
    )
    op.create_table(
        "sample_bundled_products",
        _sample("sample_bundled_products"),
        _cluster(),
        _text("cloudpak_id"),
        _text("cloudpak_metric"),
        _text("product_id"),
        _text("metric"),
        _text("conversion"),
        _text("product_name"),
        _text("cloudpak_name"),
        _text("cloudpak_version"),
        sa.Column("measured_quantity", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "sample_id",
            "cloudpak_id",
            "cloudpak_metric",
            "product_id",
            "metric",
            "conversion",
            name="pk_sample_bundled_products",
        ),
    )
    op.create_table(
        "sample_services",
        _sample("sample_services"),
        _cluster(),
        _text("cloudpak_id"),
        _text("cloudpak_metric"),
        _text("product_id"),
        _text("metric"),
        _text("service_id"),
        _text("product_name"),
        _text("service_name"),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "sample_id",
            "cloudpak_id",
            "cloudpak_metric",
            "product_id",
            "metric",
            "service_id",
            name="pk_sample_services",
        ),
    )

    op.create_table(
        "product_daily_peaks",
        _cluster(),
        sa.Column("day", sa.Date(), nullable=False),
        _text("product_id"),
        _text("metric"),
        _text("product_name"),
        sa.Column("names_at", _INSTANT, nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "cluster_id", "day", "product_id", "metric", name="pk_product_daily_peaks"
        ),
    )
    op.create_index("ix_product_daily_peaks_day", "product_daily_peaks", ["day"])
    op.create_table(
        "bundled_product_daily_peaks",
        _cluster(),
        sa.Column("day", sa.Date(), nullable=False),
        _text("cloudpak_id"),
        _text("cloudpak_metric"),
        _text("product_id"),
        _text("metric"),
        _text("conversion"),
        _text("product_name"),
        _text("cloudpak_name"),
        _text("cloudpak_version"),
        sa.Column("names_at", _INSTANT, nullable=False),
        sa.Column("measured_quantity", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "cluster_id",
            "day",
            "cloudpak_id",
            "cloudpak_metric",
            "product_id",
            "metric",
            "conversion",
            name="pk_bundled_product_daily_peaks",
        ),
    )
    op.create_index("ix_bundled_product_daily_peaks_day", "bundled_product_daily_peaks", ["day"])
    op.create_table(
        "service_daily_peaks",
        _cluster(),
        sa.Column("day", sa.Date(), nullable=False),
        _text("cloudpak_id"),
        _text("cloudpak_metric"),
        _text("product_id"),
        _text("metric"),
        _text("service_id"),
        _text("product_name"),
        _text("service_name"),
        sa.Column("names_at", _INSTANT, nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "cluster_id",
            "day",
            "cloudpak_id",
            "cloudpak_metric",
            "product_id",
            "metric",
            "service_id",
            name="pk_service_daily_peaks",
        ),
    )
    op.create_index("ix_service_daily_peaks_day", "service_daily_peaks", ["day"])

    op.create_table(
        "sampling_coverage",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _cluster(),
        sa.Column("started_at", _INSTANT, nullable=False),
        sa.Column("ended_at", _INSTANT, nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("samples_taken", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sampling_coverage"),
    )
    op.create_index(
        "ix_sampling_coverage_cluster_started", "sampling_coverage", ["cluster_id", "started_at"]
    )
    op.create_index(
        "ix_sampling_coverage_cluster_ended", "sampling_coverage", ["cluster_id", "ended_at"]
    )
    op.create_table(
        "missed_samples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _cluster(),
        sa.Column("missed_at", _INSTANT, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_missed_samples"),
    )
    op.create_index(
        "ix_missed_samples_cluster_missed", "missed_samples", ["cluster_id", "missed_at"]
    )

    op.create_table(
        "settings_history",
        _cluster(),
        sa.Column("changed_at", _INSTANT, nullable=False),
        sa.Column("threads_per_core", sa.Integer(), nullable=False),
        sa.Column("node_cpu_capping", sa.Boolean(), nullable=False),
        sa.Column("capping_source", sa.String(), nullable=False),
        sa.Column("default_pvu_per_core", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("cluster_id", "changed_at", name="pk_settings_history"),
    )


def downgrade() -> None:
    """Drop every table of the store."""
    for table in (
        "settings_history",
        "missed_samples",
        "sampling_coverage",
        "service_daily_peaks",
        "bundled_product_daily_peaks",
        "product_daily_peaks",
        "sample_services",
        "sample_bundled_products",
        "sample_products",
        "samples",
    ):
        op.drop_table(table)
