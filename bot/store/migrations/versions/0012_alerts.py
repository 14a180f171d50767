"""alerts: bad-client reports, their moderation, alert subscriptions by province, and their counts

``client_reports`` (free text encrypted, the phone number only as a keyed hash and its last 3 digits,
nothing naming the reporter), ``alert_subscriptions`` (one per conversation, deleted with it) and
``alert_counts`` (statistics by day, no content).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXTS = ("place_enc", "when_enc", "what_enc", "person_enc", "vehicle_enc", "account_enc", "followup_enc")


def upgrade() -> None:
    op.create_table(
        "client_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("reporter_hash", sa.String(length=64), nullable=True),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=True),
        sa.Column("province", sa.String(length=64), nullable=True),
        *(sa.Column(name, sa.Text(), nullable=True) for name in TEXTS),
        sa.Column("phone_hash", sa.String(length=64), nullable=True),
        sa.Column("phone_last3", sa.String(length=3), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("alerts_queued", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_client_reports_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["staff_accounts.id"],
            name=op.f("fk_client_reports_decided_by_staff_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_reports")),
    )
    with op.batch_alter_table("client_reports", schema=None) as batch_op:
        for column in ("conversation_id", "reporter_hash", "status", "province", "phone_hash", "expires_at"):
            batch_op.create_index(batch_op.f(f"ix_client_reports_{column}"), [column], unique=False)
    op.create_table(
        "alert_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("province", sa.String(length=64), nullable=False),
        sa.Column("discreet", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_alert_subscriptions_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_subscriptions")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_alert_subscriptions_conversation_id")),
    )
    with op.batch_alter_table("alert_subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_subscriptions_province"), ["province"], unique=False)
    op.create_table(
        "alert_counts",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "name", name=op.f("pk_alert_counts")),
    )


def downgrade() -> None:
    op.drop_table("alert_counts")
    with op.batch_alter_table("alert_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_subscriptions_province"))
    op.drop_table("alert_subscriptions")
    with op.batch_alter_table("client_reports", schema=None) as batch_op:
        for column in reversed(
            ("conversation_id", "reporter_hash", "status", "province", "phone_hash", "expires_at")
        ):
            batch_op.drop_index(batch_op.f(f"ix_client_reports_{column}"))
    op.drop_table("client_reports")
