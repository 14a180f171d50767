"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("stats_key", sa.String(length=24), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("articles", sa.JSON(), nullable=False),
        sa.Column("menu_path", sa.JSON(), nullable=False),
        sa.Column("referrals", sa.JSON(), nullable=False),
        sa.Column("province", sa.String(length=64), nullable=True),
        sa.Column("helpful", sa.Boolean(), nullable=True),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("counsellor_requested", sa.Boolean(), nullable=False),
        sa.Column("paged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("unreached", sa.Boolean(), nullable=False),
        sa.Column("call_status", sa.String(length=32), nullable=True),
        sa.Column("dial_outcome", sa.String(length=32), nullable=True),
        sa.Column("counsellor_answer_seconds", sa.Integer(), nullable=True),
        sa.Column("abandoned", sa.Boolean(), nullable=False),
        sa.Column("callback_requested", sa.Boolean(), nullable=False),
        sa.Column("call_ref_hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("call_ref_hash", name=op.f("uq_contacts_call_ref_hash")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_channel"), ["channel"], unique=False)
        batch_op.create_index(batch_op.f("ix_contacts_started_at"), ["started_at"], unique=False)

    op.create_table(
        "counsellors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=False),
        sa.Column("telegram_chat_enc", sa.Text(), nullable=True),
        sa.Column("telegram_user_hash", sa.String(length=64), nullable=True),
        sa.Column("phone_enc", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counsellors")),
        sa.UniqueConstraint("telegram_user_hash", name=op.f("uq_counsellors_telegram_user_hash")),
    )
    op.create_table(
        "processed_messages",
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("ref_hash", sa.String(length=64), nullable=False),
        sa.Column("replies_enc", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "ref_hash", name=op.f("pk_processed_messages")),
    )
    with op.batch_alter_table("processed_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_processed_messages_created_at"), ["created_at"], unique=False)

    op.create_table(
        "stored_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value_enc", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_stored_secrets")),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("user_key", sa.String(length=64), nullable=False),
        sa.Column("address_enc", sa.Text(), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("locale_chosen", sa.Boolean(), nullable=False),
        sa.Column("node", sa.String(length=128), nullable=True),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("held_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_conversations_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name=op.f("fk_conversations_escalation_id_escalations"),
            ondelete="SET NULL",
            use_alter=True,
        ),
        sa.ForeignKeyConstraint(
            ["held_by"],
            ["counsellors.id"],
            name=op.f("fk_conversations_held_by_counsellors"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.UniqueConstraint("channel", "user_key", name=op.f("uq_conversations_channel")),
    )
    op.create_table(
        "shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counsellor_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["counsellor_id"],
            ["counsellors.id"],
            name=op.f("fk_shifts_counsellor_id_counsellors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shifts")),
    )
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shifts_starts_at"), ["starts_at"], unique=False)

    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("counsellor_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["counsellor_id"],
            ["counsellors.id"],
            name=op.f("fk_staff_accounts_counsellor_id_counsellors"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_accounts")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_accounts_username")),
    )
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("risk", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("page_level", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("taken_by", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("callback_phone_enc", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_escalations_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_escalations_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["taken_by"],
            ["counsellors.id"],
            name=op.f("fk_escalations_taken_by_counsellors"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
    )
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_escalations_created_at"), ["created_at"], unique=False)

    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("body_enc", sa.Text(), nullable=False),
        sa.Column("transport_ref_enc", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_messages_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_messages_conversation_created", ["conversation_id", "created_at"], unique=False
        )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("counsellor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_audit_log_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["counsellor_id"],
            ["counsellors.id"],
            name=op.f("fk_audit_log_counsellor_id_counsellors"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name=op.f("fk_audit_log_escalation_id_escalations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_accounts.id"],
            name=op.f("fk_audit_log_staff_id_staff_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("ordering_key", sa.String(length=80), nullable=True),
        sa.Column("payload_enc", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_outbox_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name=op.f("fk_outbox_escalation_id_escalations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_due", ["status", "not_before"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_ordering_key"), ["ordering_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_ordering_key"))
        batch_op.drop_index(batch_op.f("ix_outbox_kind"))
        batch_op.drop_index("ix_outbox_due")

    op.drop_table("outbox")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_conversation_created")

    op.drop_table("messages")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalations_created_at"))

    op.drop_table("escalations")
    op.drop_table("staff_accounts")
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shifts_starts_at"))

    op.drop_table("shifts")
    op.drop_table("conversations")
    op.drop_table("stored_secrets")
    with op.batch_alter_table("processed_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processed_messages_created_at"))

    op.drop_table("processed_messages")
    op.drop_table("counsellors")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_started_at"))
        batch_op.drop_index(batch_op.f("ix_contacts_channel"))

    op.drop_table("contacts")
