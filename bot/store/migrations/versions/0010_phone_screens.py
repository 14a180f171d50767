"""phone_screens: the phone line's own table for calls a counsellor accepted with key 1

Before, the phone line kept these keyed hashes in ``processed_messages`` (the engine's de-duplication
table) under the made-up channel ``phone-screen``. They move to a table of their own, rows included, so
the engine's table holds only the engine's messages; the downgrade moves them back.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCREEN_CHANNEL = "phone-screen"  # the channel name the rows had in processed_messages


def upgrade() -> None:
    op.create_table(
        "phone_screens",
        sa.Column("ref_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ref_hash", name=op.f("pk_phone_screens")),
    )
    with op.batch_alter_table("phone_screens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_phone_screens_created_at"), ["created_at"], unique=False)
    op.execute(
        sa.text(
            "INSERT INTO phone_screens (ref_hash, created_at) SELECT ref_hash, created_at "
            "FROM processed_messages WHERE channel = :channel"
        ).bindparams(channel=SCREEN_CHANNEL)
    )
    op.execute(
        sa.text("DELETE FROM processed_messages WHERE channel = :channel").bindparams(channel=SCREEN_CHANNEL)
    )


def downgrade() -> None:
    op.execute(
        sa.text(
            "INSERT INTO processed_messages (channel, ref_hash, created_at) "
            "SELECT :channel, ref_hash, created_at FROM phone_screens"
        ).bindparams(channel=SCREEN_CHANNEL)
    )
    with op.batch_alter_table("phone_screens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_phone_screens_created_at"))
    op.drop_table("phone_screens")
