"""staff scopes and invites: a coordinator serves several municipalities or the region, a
school methodist one school; administrators invite staff by one-time links

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence
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
    # Each coordinator's one municipality becomes their first scope row; the old column is
    # emptied and nothing reads it any more (`domain.scope` over `staff_scopes` is the one
    # source). It is not dropped: on SQLite that means recreating `users` (batch mode), and
    # with foreign keys on, dropping the old table would cascade-delete every row that refers
    # to a user.
    op.execute(
        "INSERT INTO staff_scopes (user_id, municipality_id, granted_at) "
        "SELECT id, staff_municipality_id, CURRENT_TIMESTAMP FROM users "
        "WHERE role = 'coordinator' AND staff_municipality_id IS NOT NULL"
    )
    op.execute("UPDATE users SET staff_municipality_id = NULL")
    op.add_column("users", sa.Column("username", sa.String(length=32), nullable=True))
    op.create_index(op.f("ix_users_username"), "users", ["username"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_users_username"), table_name="users")
    op.drop_column("users", "username")
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
