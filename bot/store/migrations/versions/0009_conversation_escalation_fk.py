"""conversations.escalation_id references escalations on PostgreSQL too

Revision 0001 declared this foreign key with ``use_alter`` (conversations and escalations point at each
other) inside ``op.create_table``: SQLite creates it in the table, but on PostgreSQL a ``use_alter`` key
is left for a later ALTER TABLE that the migration never ran. So on PostgreSQL a conversation could point
at an escalation that no longer exists, and ``ON DELETE SET NULL`` never happened. Found by the test that
compares the migrated schema with the models from every revision (tests/store/test_migrate.py).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "fk_conversations_escalation_id_escalations"


def _has_key(bind: sa.engine.Connection) -> bool:
    return any(key["name"] == NAME for key in sa.inspect(bind).get_foreign_keys("conversations"))


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" or _has_key(bind):
        return  # SQLite has had it since 0001
    # a reference to an escalation deleted meanwhile would refuse the key: cleared, as SET NULL would have
    op.execute(
        "UPDATE conversations SET escalation_id = NULL WHERE escalation_id IS NOT NULL "
        "AND escalation_id NOT IN (SELECT id FROM escalations)"
    )
    op.create_foreign_key(
        NAME, "conversations", "escalations", ["escalation_id"], ["id"], ondelete="SET NULL"
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite" and _has_key(bind):
        op.drop_constraint(NAME, "conversations", type_="foreignkey")
