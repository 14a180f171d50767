"""flood caps: per-client counters, and escalations marked as from a flooding client

Revision ID: 0003
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "flood_counts",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", "window_start", name=op.f("pk_flood_counts")),
    )
    with op.batch_alter_table("flood_counts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flood_counts_expires_at"), ["expires_at"], unique=False)
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flooded", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_column("flooded")
    with op.batch_alter_table("flood_counts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flood_counts_expires_at"))
    op.drop_table("flood_counts")
