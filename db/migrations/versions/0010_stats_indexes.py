"""stats indexes: /stats of the region and /teachers of a large municipality fast
(issue #11, `python -m bench.stats`)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES: list[tuple[str, str, list[str]]] = [
    ("ix_users_municipality_name", "users", ["municipality_id", "full_name"]),
    ("ix_users_school_name", "users", ["school_id", "full_name"]),
    ("ix_attempts_started", "assessment_attempts", ["started_at"]),
    ("ix_attempts_finished", "assessment_attempts", ["finished_at"]),
    ("ix_routes_user_times", "routes", ["user_id", "created_at", "completed_at", "attempt_id"]),
    ("ix_routes_created", "routes", ["created_at"]),
    ("ix_route_steps_completed", "route_steps", ["completed_at"]),
    (
        "ix_external_diagnoses_user_day",
        "external_diagnoses",
        ["user_id", "diagnosed_on", "id"],
    ),
    ("ix_events_start", "events", ["starts_at"]),
    (
        "ix_registrations_user_visits",
        "registrations",
        ["user_id", "status", "attended_at", "event_id"],
    ),
    (
        "ix_registrations_event_feedback",
        "registrations",
        ["event_id", "status", "attended_at", "feedback_rating"],
    ),
]


def upgrade() -> None:
    # the id added: a teacher's latest finished self-assessment without a sort on PostgreSQL
    op.create_index(
        "ix_attempts_user_finished_id", "assessment_attempts", ["user_id", "finished_at", "id"]
    )
    op.drop_index("ix_attempts_user_finished", table_name="assessment_attempts")
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.create_index("ix_attempts_user_finished", "assessment_attempts", ["user_id", "finished_at"])
    op.drop_index("ix_attempts_user_finished_id", table_name="assessment_attempts")
