"""A day's explanations still referring to cells kept as one list per group (SPEC 9).

Revision ID: 0009_open_explanations
Revises: 0008_explanation_cells
Create Date: 2026-12-07

Until a day is over, its kept explanations refer to their samples' cells; they were
rows of ``usage_explanations`` with ``contributions`` NULL, one upsert each (about a
thousand for the first sample of a day with 50 chargeback groups). They are now entries
of one msgpack list per cluster, day and group in ``open_explanations``
(``store.open_explanations``); ``usage_explanations`` holds days written out only, so
its ``contributions`` and ``total_millicores`` are NOT NULL again. Rows referring to
cells are moved into lists, and back on downgrade: nothing is lost either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

import msgspec
import sqlalchemy as sa
from alembic import op

revision: str = "0009_open_explanations"
down_revision: str | Sequence[str] | None = "0008_explanation_cells"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY: Final = ("cloudpak_id", "cloudpak_metric", "product_id", "metric", "conversion")
_ENTRY: Final = (*_KEY, "product_name", "metric_quantity", "sample_at", "threads_per_core")
# The stored form of ``store.open_explanations`` at this revision: [format, [entry...]],
# an entry the values of _ENTRY in that order, the instant a msgpack timestamp.
_FORMAT: Final = 1

_EXPLANATIONS: Final = sa.table(
    "usage_explanations",
    sa.column("cluster_id", sa.String()),
    sa.column("day", sa.Date()),
    sa.column("group_name", sa.String()),
    *(sa.column(name, sa.String()) for name in _KEY),
    sa.column("product_name", sa.String()),
    sa.column("sample_at", sa.DateTime(timezone=True)),
    sa.column("metric_quantity", sa.BigInteger()),
    sa.column("threads_per_core", sa.Integer()),
    sa.column("total_millicores", sa.BigInteger()),
    sa.column("contributions", sa.LargeBinary()),
)
_LISTS: Final = sa.table(
    "open_explanations",
    sa.column("cluster_id", sa.String()),
    sa.column("day", sa.Date()),
    sa.column("group_name", sa.String()),
    sa.column("entries", sa.LargeBinary()),
)


def upgrade() -> None:
    """Create ``open_explanations``, move the rows referring to cells into it."""
    op.create_table(
        "open_explanations",
        sa.Column("cluster_id", sa.String(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("group_name", sa.String(), nullable=False),
        sa.Column("entries", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("cluster_id", "day", "group_name", name="pk_open_explanations"),
    )
    connection = op.get_bind()
    columns = _EXPLANATIONS.c
    found = connection.execute(
        sa.select(
            columns.cluster_id,
            columns.day,
            columns.group_name,
            *(columns[name] for name in _ENTRY),
        ).where(columns.contributions.is_(None))
    ).all()
    lists: dict[tuple[Any, ...], list[list[Any]]] = {}
    for row in found:
        entry = list(row[3:])
        entry[_ENTRY.index("sample_at")] = _aware(entry[_ENTRY.index("sample_at")])
        lists.setdefault(tuple(row[:3]), []).append(entry)
    if lists:
        connection.execute(
            _LISTS.insert(),
            [
                {
                    "cluster_id": cluster_id,
                    "day": day,
                    "group_name": group_name,
                    "entries": msgspec.msgpack.encode([_FORMAT, entries]),
                }
                for (cluster_id, day, group_name), entries in lists.items()
            ],
        )
    connection.execute(sa.delete(_EXPLANATIONS).where(columns.contributions.is_(None)))
    with op.batch_alter_table("usage_explanations") as batch:
        batch.alter_column("total_millicores", existing_type=sa.BigInteger(), nullable=False)
        batch.alter_column("contributions", existing_type=sa.LargeBinary(), nullable=False)


def downgrade() -> None:
    """Move the lists' entries back into rows referring to cells; drop the table."""
    with op.batch_alter_table("usage_explanations") as batch:
        batch.alter_column("total_millicores", existing_type=sa.BigInteger(), nullable=True)
        batch.alter_column("contributions", existing_type=sa.LargeBinary(), nullable=True)
    connection = op.get_bind()
    naive = connection.dialect.name == "sqlite"  # SQLite keeps the UTC wall clock
    rows = []
    for cluster_id, day, group_name, blob in connection.execute(
        sa.select(_LISTS.c.cluster_id, _LISTS.c.day, _LISTS.c.group_name, _LISTS.c.entries)
    ):
        stored_format, entries = msgspec.msgpack.decode(blob)
        if stored_format != _FORMAT:
            raise ValueError(f"open explanations of {day}: format {stored_format!r}")
        for entry in entries:
            values = dict(zip(_ENTRY, entry, strict=True))
            instant = _aware(msgspec.convert(values["sample_at"], datetime))
            values["sample_at"] = instant.replace(tzinfo=None) if naive else instant
            rows.append(
                {
                    "cluster_id": cluster_id,
                    "day": day,
                    "group_name": group_name,
                    **values,
                    "total_millicores": None,
                    "contributions": None,
                }
            )
    if rows:
        connection.execute(_EXPLANATIONS.insert(), rows)
    op.drop_table("open_explanations")


def _aware(value: datetime) -> datetime:
    """An instant read back: SQLite's are naive UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
