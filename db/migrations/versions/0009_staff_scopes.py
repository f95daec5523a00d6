"""staff scopes and invites: a coordinator serves several municipalities or the region, a
school methodist one school; administrators invite staff by one-time links

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_scopes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=True),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("granted_by_user_id", sa.Integer(), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_staff_scopes_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["municipality_id"],
            ["municipalities.id"],
            name=op.f("fk_staff_scopes_municipality_id_municipalities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_staff_scopes_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["granted_by_user_id"],
            ["users.id"],
            name=op.f("fk_staff_scopes_granted_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_scopes")),
    )
    op.create_index(op.f("ix_staff_scopes_user_id"), "staff_scopes", ["user_id"], unique=False)
    op.create_table(
        "staff_invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_by_user_id", sa.Integer(), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_staff_invites_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["used_by_user_id"],
            ["users.id"],
            name=op.f("fk_staff_invites_used_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_invites")),
        sa.UniqueConstraint("code", name=op.f("uq_staff_invites_code")),
    )
    # Each coordinator's one municipality becomes their first scope row; the column goes
    # (nothing reads it any more: `domain.scope` over `staff_scopes` is the one source).
    users = sa.table(
        "users",
        sa.column("id", sa.Integer()),
        sa.column("role", sa.String()),
        sa.column("staff_municipality_id", sa.Integer()),
    )
    rows = op.get_bind().execute(
        sa.select(users.c.id, users.c.staff_municipality_id).where(
            users.c.role == "coordinator", users.c.staff_municipality_id.is_not(None)
        )
    )
    scopes = sa.table(
        "staff_scopes",
        sa.column("user_id", sa.Integer()),
        sa.column("municipality_id", sa.Integer()),
        sa.column("granted_at", sa.DateTime(timezone=True)),
    )
    moved = [
        {"user_id": uid, "municipality_id": mid, "granted_at": datetime.now(UTC)}
        for uid, mid in rows
    ]
    if moved:
        op.bulk_insert(scopes, moved)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_users_staff_municipality_id_municipalities"), type_="foreignkey"
        )
        batch_op.drop_column("staff_municipality_id")
        batch_op.add_column(sa.Column("username", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_username"), ["username"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_username"))
        batch_op.drop_column("username")
        batch_op.add_column(sa.Column("staff_municipality_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_users_staff_municipality_id_municipalities"),
            "municipalities",
            ["staff_municipality_id"],
            ["id"],
            ondelete="SET NULL",
        )
    # a coordinator keeps one of their municipalities (the smallest id); region and school
    # scopes have no place in the old column
    op.execute(
        "UPDATE users SET staff_municipality_id = (SELECT MIN(s.municipality_id) "
        "FROM staff_scopes s WHERE s.user_id = users.id) WHERE role = 'coordinator'"
    )
    op.execute("UPDATE users SET role = 'teacher' WHERE role = 'school_methodist'")
    op.drop_table("staff_invites")
    op.drop_index(op.f("ix_staff_scopes_user_id"), table_name="staff_scopes")
    op.drop_table("staff_scopes")
