"""possible risk on contacts: when the bot asked "are you in danger right now?", the kind, the answer

Revision ID: 0004
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.add_column(sa.Column("possible_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("possible_kind", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("possible_answer", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.drop_column("possible_answer")
        batch_op.drop_column("possible_kind")
        batch_op.drop_column("possible_at")
