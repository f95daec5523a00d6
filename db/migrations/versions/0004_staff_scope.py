"""staff scope: the municipality a coordinator serves, set by an administrator

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("staff_municipality_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_users_staff_municipality_id_municipalities"),
            "municipalities",
            ["staff_municipality_id"],
            ["id"],
            ondelete="SET NULL",
        )
    # Existing coordinators keep serving the municipality their profile named when this
    # revision ran; from now on only an administrator changes it (/grant, audited).
    op.execute(
        "UPDATE users SET staff_municipality_id = municipality_id WHERE role = 'coordinator'"
    )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_users_staff_municipality_id_municipalities"), type_="foreignkey"
        )
        batch_op.drop_column("staff_municipality_id")
