"""erasure: cached replies tied to their conversation, outbox rows deleted once finished

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("processed_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("conversation_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_processed_messages_conversation_id"), ["conversation_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_processed_messages_conversation_id_conversations"),
            "conversations",
            ["conversation_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("erase_when_done", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("erase_when_done")
    with op.batch_alter_table("processed_messages", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_processed_messages_conversation_id_conversations"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_processed_messages_conversation_id"))
        batch_op.drop_column("conversation_id")
