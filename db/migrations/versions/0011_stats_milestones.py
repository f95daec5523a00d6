"""stats milestones: per user, when each monitoring indicator first became true, kept exact by
triggers (issue #11: the region's /stats at 100,000 teachers)

Every write that can change a user's milestones marks their row `stale`, whatever code made
it (the bot, an import, the CLI, a hand-written UPDATE): the triggers below. The bot refreshes
stale rows on its scheduler's tick (`db.repositories.stats_milestones.refresh`) and a report
reads stale users from the raw rows, so it is exact at any moment. Right after this migration
every user is stale: the first ticks fill the table.

The trigger always writes the user's row, even when it is stale already: on PostgreSQL that
row lock makes a refresh that claims the row wait for the writing transaction, so the refresh
never reads data older than the mark it clears.

A future migration that rebuilds one of these tables on SQLite (batch mode copies the table)
drops its triggers: it must create them again (`triggers()` below).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MARK = "UPDATE stats_milestones SET stale = {true} WHERE user_id {target}"

#: table -> (the columns whose change matters, how a row names its user: {row} is NEW / OLD)
WATCHED: dict[str, tuple[list[str], str]] = {
    "assessment_attempts": (["user_id", "finished_at", "result"], "= {row}.user_id"),
    "external_diagnoses": (["user_id", "diagnosed_on", "deficits"], "= {row}.user_id"),
    "routes": (["user_id", "attempt_id", "created_at", "completed_at"], "= {row}.user_id"),
    "route_steps": (
        ["route_id", "kind", "status", "evidence_file_id", "completed_at"],
        "= (SELECT routes.user_id FROM routes WHERE routes.id = {row}.route_id)",
    ),
    "registrations": (["user_id", "event_id", "status", "attended_at"], "= {row}.user_id"),
}
#: the user's own columns the milestones copy or depend on
USER_COLUMNS = [
    "telegram_id",
    "consent",
    "profile_completed_at",
    "municipality_id",
    "school_id",
    "age_band",
    "experience_years",
]
EVENT_TARGET = (
    "IN (SELECT registrations.user_id FROM registrations WHERE registrations.event_id = NEW.id)"
)


def triggers(dialect: str) -> tuple[list[str], list[str]]:
    """(CREATE statements, DROP statements) of the marking triggers for `dialect`."""
    create: list[str] = []
    drop: list[str] = []
    if dialect == "sqlite":

        def trigger(name: str, when: str, table: str, body: str) -> None:
            create.append(f"CREATE TRIGGER {name} AFTER {when} ON {table} BEGIN {body}; END")
            drop.append(f"DROP TRIGGER IF EXISTS {name}")

        mark = MARK.replace("{true}", "1")
        for table, (columns, target) in WATCHED.items():
            trigger(
                f"stats_{table}_insert",
                "INSERT",
                table,
                mark.format(target=target.format(row="NEW")),
            )
            trigger(
                f"stats_{table}_delete",
                "DELETE",
                table,
                mark.format(target=target.format(row="OLD")),
            )
            both = (
                mark.format(target=target.format(row="OLD"))
                + "; "
                + mark.format(target=target.format(row="NEW"))
            )
            trigger(f"stats_{table}_update", f"UPDATE OF {', '.join(columns)}", table, both)
        trigger(
            "stats_users_insert",
            "INSERT",
            "users",
            "INSERT OR IGNORE INTO stats_milestones (user_id) VALUES (NEW.id)",
        )
        trigger(
            "stats_users_update",
            f"UPDATE OF {', '.join(USER_COLUMNS)}",
            "users",
            mark.format(target="= NEW.id"),
        )
        trigger("stats_events_update", "UPDATE OF kind", "events", mark.format(target=EVENT_TARGET))
        return create, drop

    def function(name: str, body: str) -> None:
        create.append(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} "
            "RETURN NULL; END $$"
        )

    def trigger(name: str, when: str, table: str) -> None:
        create.append(
            f"CREATE TRIGGER {name} AFTER {when} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"
        )
        drop.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        drop.append(f"DROP FUNCTION IF EXISTS {name}()")

    mark = MARK.replace("{true}", "true")
    for table, (columns, target) in WATCHED.items():
        name = f"stats_{table}"
        function(
            name,
            f"IF TG_OP <> 'INSERT' THEN {mark.format(target=target.format(row='OLD'))}; END IF; "
            f"IF TG_OP <> 'DELETE' THEN {mark.format(target=target.format(row='NEW'))}; END IF;",
        )
        trigger(name, f"INSERT OR DELETE OR UPDATE OF {', '.join(columns)}", table)
    function(
        "stats_users_insert",
        "INSERT INTO stats_milestones (user_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;",
    )
    trigger("stats_users_insert", "INSERT", "users")
    function("stats_users_update", f"{mark.format(target='= NEW.id')};")
    trigger("stats_users_update", f"UPDATE OF {', '.join(USER_COLUMNS)}", "users")
    function("stats_events_update", f"{mark.format(target=EVENT_TARGET)};")
    trigger("stats_events_update", "UPDATE OF kind", "events")
    return create, drop


def upgrade() -> None:
    op.create_table(
        "stats_milestones",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("stale", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("counted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=True),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("young", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("since", sa.BigInteger(), nullable=True),
        sa.Column("assessed", sa.BigInteger(), nullable=True),
        sa.Column("external_on", sa.Date(), nullable=True),
        sa.Column("routed", sa.BigInteger(), nullable=True),
        sa.Column("course", sa.BigInteger(), nullable=True),
        sa.Column("attended", sa.BigInteger(), nullable=True),
        sa.Column("route_done", sa.BigInteger(), nullable=True),
        sa.Column("supported", sa.BigInteger(), nullable=True),
        sa.Column("route_from", sa.BigInteger(), nullable=True),
        sa.Column("route_until", sa.BigInteger(), nullable=True),
        sa.Column("routes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_assessed", sa.BigInteger(), nullable=True),
        sa.Column("last_external_on", sa.Date(), nullable=True),
        sa.Column(
            "deficits",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_stats_milestones_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_stats_milestones")),
    )
    op.create_index(
        "ix_stats_milestones_stale",
        "stats_milestones",
        ["stale"],
        sqlite_where=sa.text("stale = 1"),
        postgresql_where=sa.text("stale"),
    )
    op.create_index("ix_stats_milestones_school", "stats_milestones", ["school_id"])
    # the period's activity: new teachers and steps done without reading the tables
    op.create_index("ix_users_profile_completed", "users", ["profile_completed_at"])
    op.create_index(
        "ix_route_steps_completed_done", "route_steps", ["completed_at", "status", "route_id"]
    )
    op.drop_index("ix_route_steps_completed", table_name="route_steps")
    create, _ = triggers(op.get_bind().dialect.name)
    for statement in create:
        op.execute(statement)
    op.execute("INSERT INTO stats_milestones (user_id) SELECT id FROM users")


def downgrade() -> None:
    _, drop = triggers(op.get_bind().dialect.name)
    for statement in drop:
        op.execute(statement)
    op.create_index("ix_route_steps_completed", "route_steps", ["completed_at"])
    op.drop_index("ix_route_steps_completed_done", table_name="route_steps")
    op.drop_index("ix_users_profile_completed", table_name="users")
    op.drop_index("ix_stats_milestones_school", table_name="stats_milestones")
    op.drop_index("ix_stats_milestones_stale", table_name="stats_milestones")
    op.drop_table("stats_milestones")
