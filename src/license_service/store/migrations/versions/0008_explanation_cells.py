"""Explanations kept as the sample's cells until their day is over (SPEC 9).

Revision ID: 0008_explanation_cells
Revises: 0007_leader_view
Create Date: 2026-12-07

A sample that raises a day's peak keeps its breakdown as cells (per explained row,
workload and node: pods, charged containers, millicores) in ``explanation_cells``,
with the groups and settings that explain them in ``explanation_contexts``, and the
names and nodes' states behind the cells' keys as a log kept a segment at a time in
``explanation_names``; ``usage_explanations`` rows refer to them (same cluster,
sample instant and row key) with ``contributions`` and ``total_millicores`` NULL until
the day is over and the breakdown is written out. Its index by day is dropped.

On SQLite, instants written by bulk inserts before this revision were stored in the
driver's text (``2026-03-02 12:45:00``), not SQLAlchemy's (``2026-03-02 12:45:00.000000``)
that every other statement binds and compares: they are rewritten in SQLAlchemy's text,
the same instants (only whole seconds differed; others had their microseconds already).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_explanation_cells"
down_revision: str | Sequence[str] | None = "0007_leader_view"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = ("cloudpak_id", "cloudpak_metric", "product_id", "metric", "conversion")
# The instants bulk inserts wrote (``store.upserts``).
_BULK_INSTANTS = (
    *(
        (f"{prefix}{kind}_daily_peaks", "names_at")
        for prefix in ("", "chargeback_")
        for kind in ("product", "bundled_product", "service")
    ),
    ("usage_explanations", "sample_at"),
)


def upgrade() -> None:
    """Create the two tables; let ``usage_explanations`` refer to cells; one text per
    instant on SQLite."""
    if op.get_bind().dialect.name == "sqlite":
        for table, column in _BULK_INSTANTS:
            op.execute(
                f"UPDATE {table} SET {column} = {column} || '.000000' "  # noqa: S608 - constants
                f"WHERE length({column}) = 19"
            )
    op.create_table(
        "explanation_contexts",
        sa.Column("cluster_id", sa.String(), nullable=False),
        sa.Column("context_key", sa.String(), nullable=False),
        sa.Column("epoch", sa.String(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("cluster_id", "context_key", name="pk_explanation_contexts"),
    )
    op.create_table(
        "explanation_names",
        sa.Column("cluster_id", sa.String(), nullable=False),
        sa.Column("epoch", sa.String(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("entries", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("cluster_id", "epoch", "start", name="pk_explanation_names"),
    )
    op.create_table(
        "explanation_cells",
        sa.Column("cluster_id", sa.String(), nullable=False),
        sa.Column("sample_at", sa.DateTime(timezone=True), nullable=False),
        *(sa.Column(name, sa.String(), nullable=False) for name in _KEY),
        sa.Column("context_key", sa.String(), nullable=False),
        sa.Column("cells", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("cluster_id", "sample_at", *_KEY, name="pk_explanation_cells"),
    )
    # Its index by day cost every kept row (hundreds per sample with groups) for a daily
    # job that may as well scan.
    op.drop_index("ix_usage_explanations_day", table_name="usage_explanations")
    with op.batch_alter_table("usage_explanations") as batch:
        batch.alter_column("total_millicores", existing_type=sa.BigInteger(), nullable=True)
        batch.alter_column("contributions", existing_type=sa.LargeBinary(), nullable=True)


def downgrade() -> None:
    """Write nothing back: rows still referring to cells are dropped, then the tables."""
    op.execute("DELETE FROM usage_explanations WHERE contributions IS NULL")
    with op.batch_alter_table("usage_explanations") as batch:
        batch.alter_column("contributions", existing_type=sa.LargeBinary(), nullable=False)
        batch.alter_column("total_millicores", existing_type=sa.BigInteger(), nullable=False)
    op.create_index("ix_usage_explanations_day", "usage_explanations", ["day"])
    op.drop_table("explanation_cells")
    op.drop_table("explanation_names")
    op.drop_table("explanation_contexts")
