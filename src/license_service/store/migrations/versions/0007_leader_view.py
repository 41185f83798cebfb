"""What only the leader knows, shared with the other replicas (SPEC 12, 3.4, 11).

Revision ID: 0007_leader_view
Revises: 0006_sender_state
Create Date: 2026-12-06

``leader_views`` keeps, per cluster, the leader's latest problem sections of ``/health``
and its sender state as one JSON document, with the replica that wrote it and when:
followers answer ``/health`` and ``/status`` with it. Existing tables are untouched.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_leader_view"
down_revision: str | Sequence[str] | None = "0006_sender_state"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``leader_views``."""
    op.create_table(
        "leader_views",
        sa.Column("cluster_id", sa.String(), nullable=False),
        sa.Column("leader", sa.String(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("cluster_id", name="pk_leader_views"),
    )


def downgrade() -> None:
    """Drop ``leader_views``."""
    op.drop_table("leader_views")
