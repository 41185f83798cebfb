"""The sender's progress (SPEC 11): per Reporter URL, the last day it acknowledged.

Revision ID: 0006_sender_state
Revises: 0005_metric_uploads
Create Date: 2026-12-06

``reporter_pushes`` keeps, per Reporter URL, ``acknowledged_through`` (the next push
starts the day after it) and when the last push succeeded. Existing tables are untouched.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_sender_state"
down_revision: str | Sequence[str] | None = "0005_metric_uploads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``reporter_pushes``."""
    op.create_table(
        "reporter_pushes",
        sa.Column("reporter_url", sa.String(), nullable=False),
        sa.Column("acknowledged_through", sa.Date(), nullable=True),
        sa.Column("last_push_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("reporter_url", name="pk_reporter_pushes"),
    )


def downgrade() -> None:
    """Drop ``reporter_pushes``."""
    op.drop_table("reporter_pushes")
