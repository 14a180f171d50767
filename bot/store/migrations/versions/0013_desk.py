"""desk: the counsellor's desk (issue 21): the close form's codes on escalations, and notes

Four columns on ``escalations`` for the short form filled in at the close (reasons, risk at the end,
referrals made, follow-up wanted): codes only, counted by the statistics. A table of notes on a
conversation (a counsellor's note, or the note that goes with a hand-over), encrypted, deleted with
the conversation.

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("close_reasons", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("close_risk", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("close_referrals", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("follow_up", sa.Boolean(), nullable=True))
    op.create_table(
        "desk_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("counsellor_id", sa.Integer(), nullable=True),
        sa.Column("to_counsellor_id", sa.Integer(), nullable=True),
        sa.Column("text_enc", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_desk_notes_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name=op.f("fk_desk_notes_escalation_id_escalations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["counsellor_id"],
            ["counsellors.id"],
            name=op.f("fk_desk_notes_counsellor_id_counsellors"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["to_counsellor_id"],
            ["counsellors.id"],
            name=op.f("fk_desk_notes_to_counsellor_id_counsellors"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_notes")),
    )
    with op.batch_alter_table("desk_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_desk_notes_conversation_id"), ["conversation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_desk_notes_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("desk_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_desk_notes_created_at"))
        batch_op.drop_index(batch_op.f("ix_desk_notes_conversation_id"))
    op.drop_table("desk_notes")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_column("follow_up")
        batch_op.drop_column("close_referrals")
        batch_op.drop_column("close_risk")
        batch_op.drop_column("close_reasons")
