"""Initial schema: samples, daily peaks, sampling coverage and settings history.

Revision ID: 0001_initial_schema
Revises:
Create Date: 2026-11-28

Written out in full rather than from ``tables.py`` so that later changes to the
metadata never rewrite history; a test checks that both agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, NamedTuple

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


def _create_numbered_table(
    name: str, *columns: sa.Column[Any], unique: tuple[str, ...] = ()
) -> None:
    """A table of one cluster's records, each numbered: ``id``, ``cluster_id``, ``columns``."""
    # Named as tables.NAMING_CONVENTION names it: the table, then the first column.
    constraints = [sa.UniqueConstraint(*unique, name=f"uq_{name}_{unique[0]}")] if unique else []
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _cluster(),
        *columns,
        sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
        *constraints,
    )


class _UsageRow(NamedTuple):
    """A kind of usage row as this revision stores it: key, name and value columns."""

    key: tuple[str, ...]
    names: tuple[str, ...]
    value: str


# Written out here, not taken from metering, so that this revision never changes.
_PRODUCT: Final = _UsageRow(("product_id", "metric"), ("product_name",), "quantity")
_BUNDLED_PRODUCT: Final = _UsageRow(
    ("cloudpak_id", "cloudpak_metric", "product_id", "metric", "conversion"),
    ("product_name", "cloudpak_name", "cloudpak_version"),
    "measured_quantity",
)
_SERVICE: Final = _UsageRow(
    ("cloudpak_id", "cloudpak_metric", "product_id", "metric", "service_id"),
    ("product_name", "service_name"),
    "value",
)
_SAMPLE_TABLES: Final = (
    ("sample_products", _PRODUCT),
    ("sample_bundled_products", _BUNDLED_PRODUCT),
    ("sample_services", _SERVICE),
)
_DAILY_PEAK_TABLES: Final = (
    ("product_daily_peaks", _PRODUCT),
    ("bundled_product_daily_peaks", _BUNDLED_PRODUCT),
    ("service_daily_peaks", _SERVICE),
)


def _create_sample_table(name: str, row: _UsageRow) -> None:
    """The raw rows of a sample: sample, cluster, key, names, value; keyed by sample and key."""
    op.create_table(
        name,
        _sample(name),
        _cluster(),
        *(_text(column) for column in (*row.key, *row.names)),
        sa.Column(row.value, sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("sample_id", *row.key, name=f"pk_{name}"),
    )


def _create_daily_peak_table(name: str, row: _UsageRow) -> None:
    """A day's peaks: cluster, day, key, names, when the names were sampled, value; by day."""
    op.create_table(
        name,
        _cluster(),
        sa.Column("day", sa.Date(), nullable=False),
        *(_text(column) for column in (*row.key, *row.names)),
        sa.Column("names_at", _INSTANT, nullable=False),
        sa.Column(row.value, sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("cluster_id", "day", *row.key, name=f"pk_{name}"),
    )
    op.create_index(f"ix_{name}_day", name, ["day"])


def upgrade() -> None:
    """Create every table of the store."""
    _create_numbered_table(
        "samples",
        sa.Column("taken_at", _INSTANT, nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        unique=("cluster_id", "taken_at"),
    )
    op.create_index("ix_samples_taken_at", "samples", ["taken_at"])

    for name, row in _SAMPLE_TABLES:
        _create_sample_table(name, row)

    for name, row in _DAILY_PEAK_TABLES:
        _create_daily_peak_table(name, row)

    _create_numbered_table(
        "sampling_coverage",
        sa.Column("started_at", _INSTANT, nullable=False),
        sa.Column("ended_at", _INSTANT, nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("samples_taken", sa.Integer(), nullable=False),
    )
    op.create_index(
        "ix_sampling_coverage_cluster_started", "sampling_coverage", ["cluster_id", "started_at"]
    )
    op.create_index(
        "ix_sampling_coverage_cluster_ended", "sampling_coverage", ["cluster_id", "ended_at"]
    )
    _create_numbered_table(
        "missed_samples",
        sa.Column("missed_at", _INSTANT, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
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
