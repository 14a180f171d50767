"""outbox lanes and page recipients

Revision ID: 0002
Revises: 0003 (written on 0001; chained after main's head at the rebase so there is one head)
Create Date: 2026-12-06

Adds ``outbox.lane`` (claimed lowest first: replies to people, then first pages, then the rest) and
``outbox.recipient`` (a keyed hash of a page's route and address, to combine pages in a flood). Events
already waiting get the lane their kind has from now on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lane", sa.SmallInteger(), server_default="2", nullable=False))
        batch_op.add_column(sa.Column("recipient", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_outbox_lane", ["status", "lane", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_recipient"), ["recipient"], unique=False)
    op.execute("UPDATE outbox SET lane = 0 WHERE kind = 'deliver'")
    op.execute("UPDATE outbox SET lane = 1 WHERE kind IN ('page', 'relay_to_staff')")


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_recipient"))
        batch_op.drop_index("ix_outbox_lane")
        batch_op.drop_column("recipient")
        batch_op.drop_column("lane")
