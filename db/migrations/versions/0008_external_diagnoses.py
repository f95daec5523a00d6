"""external diagnoses: teachers' diagnoses made outside the bot, imported from files

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "external_diagnoses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("diagnosed_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("deficits", sa.JSON(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("imported_by_user_id", sa.Integer(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_external_diagnoses_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["imported_by_user_id"],
            ["users.id"],
            name=op.f("fk_external_diagnoses_imported_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_diagnoses")),
        sa.UniqueConstraint(
            "user_id",
            "diagnosed_on",
            "source",
            name=op.f("uq_external_diagnoses_user_id"),
        ),
    )
    op.create_index(
        op.f("ix_external_diagnoses_user_id"), "external_diagnoses", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_external_diagnoses_user_id"), table_name="external_diagnoses")
    op.drop_table("external_diagnoses")
