"""reminders: each user's time zone, quiet hours and muted categories; outbox rows know what
they are about (`ref`), so a change cancels or moves its pending reminders

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
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
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("quiet_hours", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("muted", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ref", sa.String(length=64), nullable=True))
    op.create_index("ix_outbox_ref_state", "outbox", ["ref", "state"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_ref_state", table_name="outbox")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("ref")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("muted")
        batch_op.drop_column("quiet_hours")
        batch_op.drop_column("timezone")
