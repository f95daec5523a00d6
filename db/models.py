"""Typed SQLAlchemy models. Times are UTC-aware (see `UTCDateTime`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from db.types import UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Municipality(Base):
    __tablename__ = "municipalities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_ru: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    region_ru: Mapped[str] = mapped_column(String(200))
    region_en: Mapped[str] = mapped_column(String(200))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    is_sample: Mapped[bool] = mapped_column(Boolean, default=False)

    schools: Mapped[list[School]] = relationship(back_populates="municipality", lazy="raise")

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_ru


class School(Base):
    __tablename__ = "schools"
    __table_args__ = (Index("ix_schools_municipality_name", "municipality_id", "name_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str | None] = mapped_column(String(64), unique=True)
    municipality_id: Mapped[int] = mapped_column(
        ForeignKey("municipalities.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(300))
    #: casefolded, whitespace-normalised name: finds a typed school again
    name_key: Mapped[str] = mapped_column(String(300))
    short_name: Mapped[str] = mapped_column(String(64))
    verified: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    municipality: Mapped[Municipality] = relationship(back_populates="schools", lazy="raise")


class Subject(Base):
    __tablename__ = "subjects"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_ru: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_ru


class Position(Base):
    __tablename__ = "positions"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_ru: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    is_manager: Mapped[bool] = mapped_column(Boolean, default=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_ru


class UserSubject(Base):
    __tablename__ = "user_subjects"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    subject_code: Mapped[str] = mapped_column(
        ForeignKey("subjects.code", ondelete="CASCADE"), primary_key=True
    )


class User(Base):
    """A Telegram user. Before consent only `telegram_id` and `language` are filled."""

    __tablename__ = "users"
    __table_args__ = (
        # /teachers of a municipality or a school, by name (issue #11, bench/stats.py)
        Index("ix_users_municipality_name", "municipality_id", "full_name"),
        Index("ix_users_school_name", "school_id", "full_name"),
        # /stats: the teachers registered in a period (0011)
        Index("ix_users_profile_completed", "profile_completed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: NULL once the user erased their data (/deleteme): the row stays as an anonymous aggregate
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    language: Mapped[str] = mapped_column(String(8))
    #: the Telegram @username, lower case, kept once they consented (an admin grants a role by
    #: it); refreshed when they write
    username: Mapped[str | None] = mapped_column(String(32), index=True)
    role: Mapped[str] = mapped_column(String(16), default="teacher")
    consent: Mapped[str] = mapped_column(String(16), default="none")
    consent_version: Mapped[str | None] = mapped_column(String(16))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    full_name: Mapped[str | None] = mapped_column(String(200))
    municipality_id: Mapped[int | None] = mapped_column(
        ForeignKey("municipalities.id", ondelete="SET NULL")
    )
    #: emptied by migration 0009 (moved into `staff_scopes`); nothing reads or writes it. Kept
    #: only because dropping it on SQLite would recreate `users` (see the migration)
    legacy_staff_municipality_id: Mapped[int | None] = mapped_column(
        "staff_municipality_id", ForeignKey("municipalities.id", ondelete="SET NULL")
    )
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id", ondelete="SET NULL"))
    position_code: Mapped[str | None] = mapped_column(
        ForeignKey("positions.code", ondelete="SET NULL")
    )
    experience_years: Mapped[int | None] = mapped_column(Integer)
    age_band: Mapped[str | None] = mapped_column(String(16))
    profile_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: set when Telegram answered 403 (the user blocked the bot): nothing is sent to them until
    #: they write to the bot again, which clears it (`outbox.sender`, `bot.middlewares.user`)
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the user's time zone (`domain.reminders.ZONES`); NULL: the service's `TIMEZONE`
    timezone: Mapped[str | None] = mapped_column(String(64))
    #: quiet hours "HH:MM-HH:MM"; "" none; NULL: the service's `QUIET_HOURS`
    quiet_hours: Mapped[str | None] = mapped_column(String(16))
    #: reminder categories the user switched off (`domain.reminders.Category` values)
    muted: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    #: a /start payload kept until onboarding ends (not personal data)
    pending_payload: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: offered after a self-assessment with strengths: ready to mentor or give master-classes
    mentor_volunteer: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    municipality: Mapped[Municipality | None] = relationship(
        lazy="raise", foreign_keys=[municipality_id]
    )

    school: Mapped[School | None] = relationship(lazy="raise")
    position: Mapped[Position | None] = relationship(lazy="raise")
    subjects: Mapped[list[Subject]] = relationship(
        secondary="user_subjects", order_by="Subject.sort_order", lazy="raise"
    )


class FrameworkVersion(Base):
    """A competency framework as imported (the validated document), one row per version."""

    __tablename__ = "frameworks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(16), unique=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Attempt(Base):
    """One self-assessment: answers accumulate; `result` is filled when it is finished."""

    __tablename__ = "assessment_attempts"
    __table_args__ = (
        # a teacher's latest finished self-assessment (by time, then id) without a sort (0010
        # added the id: SQLite has it in every index, PostgreSQL does not)
        Index("ix_attempts_user_finished_id", "user_id", "finished_at", "id"),
        # /stats: assessments started / finished in a period
        Index("ix_attempts_started", "started_at"),
        Index("ix_attempts_finished", "finished_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    framework_version: Mapped[str] = mapped_column(ForeignKey("frameworks.version"))
    is_manager: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Answer(Base):
    __tablename__ = "assessment_answers"

    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_attempts.id", ondelete="CASCADE"), primary_key=True
    )
    statement_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Route(Base):
    """An individual educational route (ИОМ)."""

    __tablename__ = "routes"
    __table_args__ = (
        Index("ix_routes_user_status", "user_id", "status"),
        # /stats: a teacher's routes with their times, read without the table
        Index("ix_routes_user_times", "user_id", "created_at", "completed_at", "attempt_id"),
        # /stats: routes created in a period
        Index("ix_routes_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessment_attempts.id", ondelete="SET NULL")
    )
    pace: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    steps: Mapped[list[RouteStep]] = relationship(
        back_populates="route",
        order_by="RouteStep.position",
        cascade="all, delete-orphan",
        lazy="raise",
    )


class RouteStep(Base):
    """A step of a route. Its text is copied from the template (`content`), so a route stays
    as it was planned when the framework is replaced."""

    __tablename__ = "route_steps"
    __table_args__ = (
        # /stats: steps done in a period, read without the table (0011 added the columns)
        Index("ix_route_steps_completed_done", "completed_at", "status", "route_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("routes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    competency: Mapped[str] = mapped_column(String(32))
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    #: {"title": {ru, en}, "what": {ru, en}, "how": {ru, en}, "resources": [{title, url}]}
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    target_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    evidence_text: Mapped[str | None] = mapped_column(Text)
    evidence_file_id: Mapped[str | None] = mapped_column(String(255))
    evidence_file_name: Mapped[str | None] = mapped_column(String(255))
    reflection: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    added_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    route: Mapped[Route] = relationship(back_populates="steps", lazy="raise")


class RouteComment(Base):
    __tablename__ = "route_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("routes.id", ondelete="CASCADE"), index=True)
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Site(Base):
    """An internship site (стажировочная площадка): a school with proven practice running a
    modular programme for other teachers."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(200))
    competencies: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    #: [{"title": ..., "hours": N}]
    modules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    school: Mapped[School | None] = relationship(lazy="raise")


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_status_start", "status", "starts_at"),
        # /stats: the events of a period
        Index("ix_events_start", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str | None] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    competencies: Mapped[list[str]] = mapped_column(JSON, default=list)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))
    #: the organising municipality; the audience is this municipality or, if `region_wide`, all
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    region_wide: Mapped[bool] = mapped_column(Boolean, default=False)
    positions: Mapped[list[str]] = mapped_column(JSON, default=list)
    subjects: Mapped[list[str]] = mapped_column(JSON, default=list)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(300), default="")
    online_url: Mapped[str] = mapped_column(String(500), default="")
    capacity: Mapped[int] = mapped_column(Integer)
    registration_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    checkin_code: Mapped[str] = mapped_column(String(16))
    #: bumped by every sign-up and cancellation: the row lock that serialises them
    lock_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site | None] = relationship(lazy="raise")


class Registration(Base):
    __tablename__ = "registrations"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id"),
        Index("ix_registrations_event_status", "event_id", "status"),
        # /stats: a teacher's attendance (first visit) and an event's sign-ups and ratings,
        # both read from the index alone
        Index("ix_registrations_user_visits", "user_id", "status", "attended_at", "event_id"),
        Index(
            "ix_registrations_event_feedback",
            "event_id",
            "status",
            "attended_at",
            "feedback_rating",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    #: order in the queue: a counter per event, never reused
    queue_no: Mapped[int] = mapped_column(Integer)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    attended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    feedback_rating: Mapped[int | None] = mapped_column(Integer)
    feedback_comment: Mapped[str | None] = mapped_column(Text)
    feedback_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship(lazy="raise")
    user: Mapped[User] = relationship(lazy="raise")


class Job(Base):
    """A persistent scheduled job: the scheduler runs due rows, so a restart loses none."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_due", "done_at", "run_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class OutboxMessage(Base):
    """A message to one user, written in the same transaction as the change that caused it and
    delivered after the commit by `outbox.sender` (see there for the delivery guarantees).

    `state`: pending → sent | failed | cancelled. A pending row is claimed by one sender at a
    time (`claimed_by` until `claimed_until`, a lease that a crashed sender lets lapse)."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_due", "state", "due_at"),
        Index("ix_outbox_user_state", "user_id", "state"),
        Index("ix_outbox_ref_state", "ref", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: the same key is queued once (None: no such rule)
    key: Mapped[str | None] = mapped_column(String(128), unique=True)
    #: what the row is about ("event:12", "route:3"): changes to it cancel or move the row
    ref: Mapped[str | None] = mapped_column(String(64))
    #: not before this time; NULL: as soon as it is committed
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Broadcast(Base):
    """A methodist's message to chosen teachers (`domain.broadcasts`). The message itself is
    the author's own message in their chat with the bot, copied to each recipient (so it keeps
    its formatting, photo or document); its recipients become outbox rows when it starts."""

    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_state_when", "state", "scheduled_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: where the author could broadcast when they created it (`domain.scope.Scope.to_json`:
    #: NULL the whole region, a list of municipality ids, or {municipality_ids, school_ids})
    scope: Mapped[list[int] | dict[str, list[int]] | None] = mapped_column(JSON)
    #: `domain.broadcasts.Filters.to_json()`
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source_chat_id: Mapped[int] = mapped_column(BigInteger)
    source_message_id: Mapped[int] = mapped_column(Integer)
    #: text, photo or document
    content_kind: Mapped[str] = mapped_column(String(16))
    #: the beginning of the text or caption, for the history (plain text)
    preview: Mapped[str] = mapped_column(Text, default="")
    #: optional buttons: {"event_id": N} and/or {"url": ..., "url_label": ...}
    buttons: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16))
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: recipients resolved at the start
    total: Mapped[int] = mapped_column(Integer, default=0)
    #: the author's live progress message
    progress_message_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BroadcastClick(Base):
    """A recipient opened the event of a broadcast (its report counts them once)."""

    __tablename__ = "broadcast_clicks"

    broadcast_id: Mapped[int] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExternalDiagnosis(Base):
    """A diagnosis of a teacher made outside the bot (the seeds' "диагностика в ЦНППМ"),
    imported from a file: it counts for the "diagnosed" indicator and shows beside the
    teacher's self-assessment. A re-import of the same row changes nothing (unique key)."""

    __tablename__ = "external_diagnoses"
    __table_args__ = (
        UniqueConstraint("user_id", "diagnosed_on", "source"),
        # /stats: a teacher's latest external diagnosis (by date, then id) without a sort
        Index("ix_external_diagnoses_user_day", "user_id", "diagnosed_on", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    diagnosed_on: Mapped[date] = mapped_column(Date)
    #: who diagnosed, as the file says (e.g. "ЦНППМ")
    source: Mapped[str] = mapped_column(String(200))
    #: competency codes of the framework found to be deficits
    deficits: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: competency code -> score, where the file gives scores
    scores: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    imported_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffScope(Base):
    """Where a coordinator or school methodist acts (`domain.scope`): one row per municipality,
    one school, or one row with neither for the whole region. Only an administrator writes them
    (/grant, an invite, /admin), audited; the user's profile never does."""

    __tablename__ = "staff_scopes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    municipality_id: Mapped[int | None] = mapped_column(
        ForeignKey("municipalities.id", ondelete="CASCADE")
    )
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    granted_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffInvite(Base):
    """A one-time link (`start=staff_<code>`) an administrator made: whoever opens it first,
    before `expires_at`, gets `role` with `scope` once their onboarding is done."""

    __tablename__ = "staff_invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: random and unguessable (`secrets.token_urlsafe`)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    #: {"region": true} | {"municipality_ids": [...]} | {"school_id": N}
    scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StatsMilestone(Base):
    """Per user, when each monitoring indicator first became true, kept for `/stats` (issue #11:
    the region's report reads one narrow row per teacher instead of recomputing every
    teacher's history). Times are whole seconds since the epoch (UTC): integer comparisons are
    what makes the count over 100,000 teachers fast. The "effective" times are already the
    later of the profile's completion and the event (a teacher counts from the moment both
    hold).

    Always exact: migration 0011's triggers mark a user's row `stale` on every write that can
    change it (their profile, self-assessments, external diagnoses, routes and steps,
    registrations, an event's kind), from any code path; `db.repositories.stats_milestones`
    refreshes stale rows (the scheduler's tick) and the reports compute stale users from the
    raw rows as before, so a report never reads an outdated row."""

    __tablename__ = "stats_milestones"
    __table_args__ = (
        Index(
            "ix_stats_milestones_stale",
            "stale",
            sqlite_where=text("stale = 1"),
            postgresql_where=text("stale"),
        ),
        Index("ix_stats_milestones_school", "school_id"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    #: the row may be outdated: read the user's raw rows instead, refresh it
    stale: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    #: in the population (`db.repositories.stats_people.population` without the scope)
    counted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    municipality_id: Mapped[int | None] = mapped_column(Integer)
    school_id: Mapped[int | None] = mapped_column(Integer)
    young: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: the profile completed
    since: Mapped[int | None] = mapped_column(BigInteger)
    #: effective: a self-assessment finished (the external diagnosis is the date below)
    assessed: Mapped[int | None] = mapped_column(BigInteger)
    #: the first external diagnosis's date
    external_on: Mapped[date | None] = mapped_column(Date)
    routed: Mapped[int | None] = mapped_column(BigInteger)
    course: Mapped[int | None] = mapped_column(BigInteger)
    #: effective: attended an internship or master-class
    attended: Mapped[int | None] = mapped_column(BigInteger)
    route_done: Mapped[int | None] = mapped_column(BigInteger)
    #: effective: attended any event or did a mentoring step (support of a young specialist)
    supported: Mapped[int | None] = mapped_column(BigInteger)
    #: the newest route: effective creation, raw completion; how many routes there are (with
    #: more than one, an older route may have been active: the reports look it up)
    route_from: Mapped[int | None] = mapped_column(BigInteger)
    route_until: Mapped[int | None] = mapped_column(BigInteger)
    routes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: the deficit map: the newest self-assessment's finish (raw) and external diagnosis's
    #: date, and the deficits of the one that wins (`db.repositories.stats`)
    last_assessed: Mapped[int | None] = mapped_column(BigInteger)
    last_external_on: Mapped[date | None] = mapped_column(Date)
    #: (JSONB on PostgreSQL: searched per competency without parsing the text each time)
    deficits: Mapped[list[str] | None] = mapped_column(JSON().with_variant(JSONB(), "postgresql"))


class AuditEntry(Base):
    """Privileged actions and consent changes, for admins and accountability."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(48))
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


__all__ = [
    "Answer",
    "Attempt",
    "AuditEntry",
    "Base",
    "Broadcast",
    "BroadcastClick",
    "Event",
    "ExternalDiagnosis",
    "FrameworkVersion",
    "Job",
    "Municipality",
    "OutboxMessage",
    "Position",
    "Registration",
    "Route",
    "RouteComment",
    "RouteStep",
    "School",
    "Site",
    "StaffInvite",
    "StaffScope",
    "StatsMilestone",
    "Subject",
    "User",
    "UserSubject",
]
