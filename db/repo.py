"""The one database layer: repositories behind a `Repo` facade.

Repositories never commit: the session middleware owns the unit of work (one commit per
update). Writes that change what `UserContext` caches are recorded in `Repo.dirty_users` so
the middleware can drop those cache entries after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.event_repo import EventRepo, ImportRepo, JobRepo
from db.models import (
    Answer,
    Attempt,
    AuditEntry,
    Event,
    FrameworkVersion,
    Municipality,
    Position,
    Registration,
    Route,
    RouteComment,
    RouteStep,
    School,
    Site,
    Subject,
    User,
    UserSubject,
)
from db.types import utcnow
from domain.framework import Framework, parse_framework
from domain.profile import ProfileSnapshot, school_key, short_school_name
from domain.reference import ReferenceData
from domain.roles import Role
from domain.route import StepStatus

#: what `UserRepo.set_fields` may change: the user's own profile and flags, never their powers
PROFILE_FIELDS = frozenset(
    {
        "full_name",
        "municipality_id",
        "school_id",
        "position_code",
        "experience_years",
        "age_band",
        "pending_payload",
        "mentor_volunteer",
    }
)


class UserRepo:
    def __init__(self, session: AsyncSession, dirty: set[int]) -> None:
        self.session = session
        self._dirty = dirty

    def _touch(self, user: User) -> None:
        if user.telegram_id is not None:
            self._dirty.add(user.telegram_id)

    async def by_telegram_id(self, telegram_id: int) -> User | None:
        user: User | None = await self.session.scalar(
            select(User).where(User.telegram_id == telegram_id)
        )
        return user

    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def require(self, user_id: int) -> User:
        """The user of the current update (the middleware created the row)."""
        user = await self.session.get(User, user_id)
        if user is None:
            raise LookupError(f"user {user_id} vanished during the update")
        return user

    async def get_full(self, user_id: int) -> User | None:
        """The user with municipality, school, position and subjects loaded."""
        user: User | None = await self.session.scalar(
            select(User)
            .where(User.id == user_id)
            .options(
                selectinload(User.municipality),
                selectinload(User.school),
                selectinload(User.position),
                selectinload(User.subjects),
            )
            .execution_options(populate_existing=True)
        )
        return user

    async def get_or_create(self, telegram_id: int, language: str) -> tuple[User, bool]:
        """The user with this Telegram id; created (language only) on first contact."""
        user = await self.by_telegram_id(telegram_id)
        if user is not None:
            return user, False
        user = User(telegram_id=telegram_id, language=language, role=Role.TEACHER)
        try:
            async with self.session.begin_nested():
                self.session.add(user)
        except IntegrityError:  # a concurrent update of the same new user created it first
            existing = await self.by_telegram_id(telegram_id)
            if existing is None:
                raise
            return existing, False
        return user, True

    async def set_language(self, user: User, language: str) -> None:
        user.language = language
        self._touch(user)

    async def set_consent(self, user: User, status: str, version: str | None) -> None:
        user.consent = status
        user.consent_version = version
        user.consent_at = utcnow() if status == "given" else None
        self._touch(user)

    async def set_role(
        self, user: User, role: Role, staff_municipality_id: int | None = None
    ) -> None:
        """The role and, for a coordinator, the municipality they serve (None otherwise)."""
        if role is Role.COORDINATOR and staff_municipality_id is None:
            raise ValueError("a coordinator serves a municipality: name it")
        user.role = role.value
        user.staff_municipality_id = staff_municipality_id if role is Role.COORDINATOR else None
        self._touch(user)

    async def set_fields(self, user: User, **values: Any) -> None:
        """Profile fields only: powers (role, staff scope) change through `set_role`."""
        for name, value in values.items():
            if name not in PROFILE_FIELDS:
                raise AttributeError(name)
            setattr(user, name, value)
        self._touch(user)

    async def subject_codes(self, user_id: int) -> list[str]:
        rows = await self.session.scalars(
            select(UserSubject.subject_code)
            .join(Subject, Subject.code == UserSubject.subject_code)
            .where(UserSubject.user_id == user_id)
            .order_by(Subject.sort_order)
        )
        return list(rows)

    async def set_subjects(self, user: User, codes: list[str]) -> None:
        await self.session.execute(delete(UserSubject).where(UserSubject.user_id == user.id))
        known = set(await self.session.scalars(select(Subject.code).where(Subject.code.in_(codes))))
        self.session.add_all(
            UserSubject(user_id=user.id, subject_code=c) for c in dict.fromkeys(codes) if c in known
        )
        await self.session.flush()
        self.session.expire(user, ["subjects"])

    async def snapshot(self, user: User) -> ProfileSnapshot:
        count = await self.session.scalar(
            select(func.count()).select_from(UserSubject).where(UserSubject.user_id == user.id)
        )
        return ProfileSnapshot(
            full_name=user.full_name,
            municipality_id=user.municipality_id,
            school_id=user.school_id,
            position_code=user.position_code,
            subject_count=count or 0,
            experience_years=user.experience_years,
            age_band=user.age_band,
        )

    async def complete_profile(self, user: User) -> None:
        if user.profile_completed_at is None:
            user.profile_completed_at = utcnow()
        self._touch(user)

    async def teachers_of(self, municipality_id: int | None, limit: int = 50) -> list[User]:
        """Registered (consented, profile complete) users, by name; all when None."""
        query = (
            select(User)
            .where(User.telegram_id.is_not(None), User.profile_completed_at.is_not(None))
            .order_by(User.full_name)
            .limit(limit)
        )
        if municipality_id is not None:
            query = query.where(User.municipality_id == municipality_id)
        return list(await self.session.scalars(query))

    async def names(self, user_ids: set[int]) -> dict[int, str | None]:
        """Full names by user id (None: no profile yet, or erased)."""
        if not user_ids:
            return {}
        rows = await self.session.execute(
            select(User.id, User.full_name).where(User.id.in_(user_ids))
        )
        return {uid: name for uid, name in rows.tuples()}

    async def with_roles(self, roles: list[Role]) -> list[User]:
        rows = await self.session.scalars(
            select(User)
            .where(User.role.in_([r.value for r in roles]), User.telegram_id.is_not(None))
            .order_by(User.id)
        )
        return list(rows)

    async def erase(self, user: User) -> None:
        """Erase personal data (/deleteme); keep an anonymous row for statistics.

        Kept, as anonymous numbers: the user row's municipality, position and age band;
        finished self-assessments' scores (no answers); routes with their steps' competency,
        kind, status and dates (no evidence, reflection or methodists' words); registrations'
        status, attendance and rating (no comment); audit entries (actions and ids only: the
        record of consent and its withdrawal). Everything else about the person goes. Seats
        are released before this by the caller (`services.privacy.erase_user`).
        """
        self._touch(user)
        uid = user.id
        own_routes = select(Route.id).where(Route.user_id == uid).scalar_subquery()
        own_attempts = select(Attempt.id).where(Attempt.user_id == uid).scalar_subquery()
        await self.session.execute(delete(UserSubject).where(UserSubject.user_id == uid))
        # self-assessment: the answers go; a finished attempt keeps only its scores
        await self.session.execute(delete(Answer).where(Answer.attempt_id.in_(own_attempts)))
        await self.session.execute(
            delete(Attempt).where(Attempt.user_id == uid, Attempt.finished_at.is_(None))
        )
        # the route: evidence, files, reflections and the methodists' comments about the teacher
        await self.session.execute(
            update(RouteStep)
            .where(RouteStep.route_id.in_(own_routes))
            .values(
                evidence_text=None,
                evidence_file_id=None,
                evidence_file_name=None,
                reflection=None,
            )
        )
        for step in await self.session.scalars(
            select(RouteStep).where(
                RouteStep.route_id.in_(own_routes), RouteStep.kind == CUSTOM_STEP_KIND
            )
        ):  # a methodist's own step: its title was typed for this teacher
            step.content = {**step.content, "title": dict(ERASED_STEP_TITLE)}
        await self.session.execute(
            delete(RouteComment).where(RouteComment.route_id.in_(own_routes))
        )
        await self.session.execute(
            update(Registration).where(Registration.user_id == uid).values(feedback_comment=None)
        )
        # what they did as a methodist stays with the other teachers and events, unsigned
        await self.session.execute(
            update(RouteComment)
            .where(RouteComment.author_user_id == uid)
            .values(author_user_id=None)
        )
        await self.session.execute(
            update(RouteStep).where(RouteStep.added_by_user_id == uid).values(added_by_user_id=None)
        )
        await self.session.execute(
            update(Event).where(Event.organiser_id == uid).values(organiser_id=None)
        )
        school_id = user.school_id
        user.telegram_id = None
        user.full_name = None
        user.school_id = None
        user.experience_years = None
        user.pending_payload = None
        user.mentor_volunteer = False
        user.consent = "withdrawn"
        user.consent_version = None
        user.consent_at = None
        user.role = Role.TEACHER.value
        user.staff_municipality_id = None
        user.erased_at = utcnow()
        await self.session.flush()
        if school_id is not None:
            await self._forget_typed_school(school_id)

    async def _forget_typed_school(self, school_id: int) -> None:
        """A school the teacher typed in (unverified) that nobody else uses is their words:
        it goes. A verified school, or one another teacher or a site uses, stays."""
        school = await self.session.get(School, school_id)
        if school is None or school.verified:
            return
        users = await self.session.scalar(
            select(func.count()).select_from(User).where(User.school_id == school_id)
        )
        sites = await self.session.scalar(
            select(func.count()).select_from(Site).where(Site.school_id == school_id)
        )
        if not users and not sites:
            await self.session.execute(delete(School).where(School.id == school_id))

    async def purge_unconsented(self, older_than: datetime) -> int:
        """Delete rows of users who never agreed and have been silent since `older_than`."""
        result = await self.session.execute(
            delete(User).where(
                User.consent.in_(("none", "declined")),
                User.updated_at < older_than,
                User.erased_at.is_(None),
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def export(self, user_id: int) -> dict[str, Any]:
        """Everything stored about the user, for /mydata (152-FZ art. 14): the profile, consent
        and its history, self-assessments with answers and scores, routes with steps,
        evidence, reflections and the methodists' comments, registrations with attendance and
        feedback, and what they did as a methodist. `tests/test_privacy.py` walks every table
        that references a user and fails if one is missing here."""
        user = await self.get_full(user_id)
        if user is None:
            return {}
        audit = list(
            await self.session.scalars(
                select(AuditEntry)
                .where(
                    (AuditEntry.target_user_id == user_id) | (AuditEntry.actor_user_id == user_id)
                )
                .order_by(AuditEntry.at, AuditEntry.id)
            )
        )
        history = [
            {
                "at": _iso(a.at),
                "action": a.action,
                "by_you": a.actor_user_id == user_id,
                "details": a.details,
            }
            for a in audit
        ]
        return {
            "exported_at": _iso(utcnow()),
            "telegram_id": user.telegram_id,
            "language": user.language,
            "role": user.role,
            "consent": {
                "status": user.consent,
                "version": user.consent_version,
                "given_at": _iso(user.consent_at),
            },
            "consent_history": [h for h in history if h["action"] in CONSENT_ACTIONS],
            "profile": {
                "full_name": user.full_name,
                "municipality": user.municipality.name_ru if user.municipality else None,
                "school": user.school.name if user.school else None,
                "school_verified": user.school.verified if user.school else None,
                "position": user.position.code if user.position else None,
                "subjects": [s.code for s in user.subjects],
                "subject_names": [s.name(user.language) for s in user.subjects],
                "experience_years": user.experience_years,
                "age_band": user.age_band,
                "completed_at": _iso(user.profile_completed_at),
                "mentor_volunteer": user.mentor_volunteer,
            },
            "pending_link": user.pending_payload,
            "created_at": _iso(user.created_at),
            "updated_at": _iso(user.updated_at),
            "erased_at": _iso(user.erased_at),
            "assessments": await self._export_assessments(user_id),
            "routes": await self._export_routes(user_id, user.language),
            "registrations": await self._export_registrations(user_id),
            "as_methodist": await self._export_authored(user_id, user.language),
            "history": history,
        }

    async def _export_assessments(self, user_id: int) -> list[dict[str, Any]]:
        attempts = list(
            await self.session.scalars(
                select(Attempt).where(Attempt.user_id == user_id).order_by(Attempt.id)
            )
        )
        answers: dict[int, list[dict[str, Any]]] = {a.id: [] for a in attempts}
        for answer in await self.session.scalars(
            select(Answer)
            .where(Answer.attempt_id.in_(list(answers)))
            .order_by(Answer.attempt_id, Answer.statement_code)
        ):
            answers[answer.attempt_id].append(
                {
                    "statement": answer.statement_code,
                    "value": answer.value,
                    "answered_at": _iso(answer.answered_at),
                }
            )
        return [
            {
                "id": a.id,
                "framework_version": a.framework_version,
                "management_block": a.is_manager,
                "started_at": _iso(a.started_at),
                "finished_at": _iso(a.finished_at),
                "result": a.result,
                "answers": answers[a.id],
            }
            for a in attempts
        ]

    async def _export_routes(self, user_id: int, language: str) -> list[dict[str, Any]]:
        routes = list(
            await self.session.scalars(
                select(Route).where(Route.user_id == user_id).order_by(Route.id)
            )
        )
        ids = [r.id for r in routes]
        steps: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        for step in await self.session.scalars(
            select(RouteStep).where(RouteStep.route_id.in_(ids)).order_by(RouteStep.position)
        ):
            steps[step.route_id].append(_step_json(step, language))
        comments: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        for comment in await self.session.scalars(
            select(RouteComment).where(RouteComment.route_id.in_(ids)).order_by(RouteComment.id)
        ):
            comments[comment.route_id].append(
                {
                    "id": comment.id,
                    "from": "you" if comment.author_user_id == user_id else "methodist",
                    "text": comment.text,
                    "at": _iso(comment.created_at),
                }
            )
        return [
            {
                "id": r.id,
                "from_assessment": r.attempt_id,
                "pace": r.pace,
                "status": r.status,
                "created_at": _iso(r.created_at),
                "completed_at": _iso(r.completed_at),
                "steps": steps[r.id],
                "methodists_comments": comments[r.id],
            }
            for r in routes
        ]

    async def _export_registrations(self, user_id: int) -> list[dict[str, Any]]:
        rows = await self.session.execute(
            select(Registration, Event.title, Event.starts_at)
            .join(Event, Event.id == Registration.event_id)
            .where(Registration.user_id == user_id)
            .order_by(Event.starts_at, Registration.id)
        )
        return [
            {
                "event_id": reg.event_id,
                "event": title,
                "event_starts_at": _iso(starts_at),
                "status": reg.status,
                "queue_no": reg.queue_no,
                "offer_expires_at": _iso(reg.offer_expires_at),
                "created_at": _iso(reg.created_at),
                "updated_at": _iso(reg.updated_at),
                "attended_at": _iso(reg.attended_at),
                "feedback": {
                    "rating": reg.feedback_rating,
                    "comment": reg.feedback_comment,
                    "at": _iso(reg.feedback_at),
                },
            }
            for reg, title, starts_at in rows.tuples()
        ]

    async def _export_authored(self, user_id: int, language: str) -> dict[str, Any]:
        """What the user wrote or organised as a methodist (about other people's routes and
        events): listed, since these rows point at them."""
        comments = await self.session.scalars(
            select(RouteComment)
            .join(Route, Route.id == RouteComment.route_id)
            .where(RouteComment.author_user_id == user_id, Route.user_id != user_id)
            .order_by(RouteComment.id)
        )
        steps = await self.session.scalars(
            select(RouteStep)
            .join(Route, Route.id == RouteStep.route_id)
            .where(RouteStep.added_by_user_id == user_id, Route.user_id != user_id)
            .order_by(RouteStep.id)
        )
        events = await self.session.scalars(
            select(Event).where(Event.organiser_id == user_id).order_by(Event.starts_at, Event.id)
        )
        return {
            "comments_written": [
                {"route_id": c.route_id, "text": c.text, "at": _iso(c.created_at)} for c in comments
            ],
            "steps_added": [{"route_id": s.route_id, **_step_json(s, language)} for s in steps],
            "events_organised": [
                {
                    "id": e.id,
                    "code": e.code,
                    "kind": e.kind,
                    "title": e.title,
                    "starts_at": _iso(e.starts_at),
                    "ends_at": _iso(e.ends_at),
                    "status": e.status,
                }
                for e in events
            ],
        }


#: audit actions that record consent and its withdrawal
CONSENT_ACTIONS = frozenset({"consent_given", "consent_declined", "data_erased"})
#: the kind of a step a methodist adds by hand (handlers.coordinator): its title is free text
CUSTOM_STEP_KIND = "custom"
#: what an erased methodist's step is called instead of the title they typed
ERASED_STEP_TITLE = {"ru": "Задание методиста", "en": "A task from your methodist"}


def _step_json(step: RouteStep, language: str) -> dict[str, Any]:
    title = step.content.get("title") or {}
    return {
        "id": step.id,
        "position": step.position,
        "competency": step.competency,
        "number": step.number,
        "kind": step.kind,
        "title": (title.get(language) or title.get("ru")) if isinstance(title, dict) else title,
        "target_date": step.target_date.isoformat(),
        "status": step.status,
        "evidence_text": step.evidence_text,
        "evidence_file_id": step.evidence_file_id,
        "evidence_file_name": step.evidence_file_name,
        "reflection": step.reflection,
        "completed_at": _iso(step.completed_at),
        "added_by_methodist": step.kind == CUSTOM_STEP_KIND or step.added_by_user_id is not None,
    }


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


@dataclass(slots=True)
class ImportReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, created: bool) -> None:
        target = self.created if created else self.updated
        target[kind] = target.get(kind, 0) + 1


class ReferenceRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def municipalities(self) -> list[Municipality]:
        return list(
            await self.session.scalars(
                select(Municipality).order_by(Municipality.sort_order, Municipality.id)
            )
        )

    async def municipality(self, municipality_id: int) -> Municipality | None:
        return await self.session.get(Municipality, municipality_id)

    async def municipality_by_code(self, code: str) -> Municipality | None:
        municipality: Municipality | None = await self.session.scalar(
            select(Municipality).where(Municipality.code == code)
        )
        return municipality

    async def schools(self, municipality_id: int) -> list[School]:
        """Verified schools of a municipality, in file order."""
        return list(
            await self.session.scalars(
                select(School)
                .where(School.municipality_id == municipality_id, School.verified.is_(True))
                .order_by(School.id)
            )
        )

    async def school(self, school_id: int) -> School | None:
        return await self.session.get(School, school_id)

    async def find_or_add_school(self, municipality_id: int, name: str) -> School:
        """A school typed by a teacher: reuse a matching one, else add it unverified."""
        key = school_key(name)
        existing = await self.session.scalar(
            select(School)
            .where(School.municipality_id == municipality_id, School.name_key == key)
            .order_by(School.verified.desc(), School.id)
            .limit(1)
        )
        if existing is not None:
            return existing
        school = School(
            municipality_id=municipality_id,
            name=name,
            name_key=key,
            short_name=short_school_name(name),
            verified=False,
        )
        self.session.add(school)
        await self.session.flush()
        return school

    async def subjects(self) -> list[Subject]:
        return list(await self.session.scalars(select(Subject).order_by(Subject.sort_order)))

    async def positions(self) -> list[Position]:
        return list(await self.session.scalars(select(Position).order_by(Position.sort_order)))

    async def position(self, code: str) -> Position | None:
        return await self.session.get(Position, code)

    async def unverified_schools(self, municipality_id: int | None) -> list[School]:
        """Schools typed in by teachers, oldest first (all municipalities when None)."""
        query = select(School).where(School.verified.is_(False)).order_by(School.id)
        if municipality_id is not None:
            query = query.where(School.municipality_id == municipality_id)
        return list(await self.session.scalars(query.options(selectinload(School.municipality))))

    async def verify_school(self, school: School) -> None:
        school.verified = True

    async def rename_school(self, school: School, name: str) -> None:
        """A methodist's correction of a typed school: the new name, and it is verified."""
        school.name = name
        school.name_key = school_key(name)
        school.short_name = short_school_name(name)
        school.verified = True
        await self.session.flush()

    async def school_by_key(self, municipality_id: int, name: str) -> School | None:
        """Another school of the municipality with the same normalised name, if any."""
        found: School | None = await self.session.scalar(
            select(School)
            .where(School.municipality_id == municipality_id, School.name_key == school_key(name))
            .order_by(School.verified.desc(), School.id)
            .limit(1)
        )
        return found

    async def school_users(self, school_id: int) -> list[User]:
        return list(
            await self.session.scalars(
                select(User).where(User.school_id == school_id).order_by(User.id)
            )
        )

    async def merge_school(self, source: School, target: School) -> int:
        """Move everyone (teachers, sites) from a typed school to an existing one and drop
        the typed row. Returns how many teachers moved."""
        if source.id == target.id or source.municipality_id != target.municipality_id:
            raise ValueError("a school merges only into another school of its municipality")
        moved = await self.session.execute(
            update(User).where(User.school_id == source.id).values(school_id=target.id)
        )
        await self.session.execute(
            update(Site).where(Site.school_id == source.id).values(school_id=target.id)
        )
        await self.session.execute(delete(School).where(School.id == source.id))
        await self.session.flush()
        self.session.expunge(source)
        return int(getattr(moved, "rowcount", 0) or 0)

    async def reject_school(self, school: School) -> list[User]:
        """Drop a typed school: its teachers have no school again (they are asked to choose
        one), sites keep no host school. Returns the teachers who had it."""
        teachers = await self.school_users(school.id)
        for teacher in teachers:
            teacher.school_id = None
        await self.session.execute(
            update(Site).where(Site.school_id == school.id).values(school_id=None)
        )
        await self.session.flush()
        await self.session.execute(delete(School).where(School.id == school.id))
        self.session.expunge(school)
        return teachers

    async def is_empty(self) -> bool:
        return (await self.session.scalar(select(func.count()).select_from(Municipality))) == 0

    async def apply(self, data: ReferenceData) -> ImportReport:
        """Upsert everything in `data` by code. Nothing is deleted: profiles point at rows."""
        report = ImportReport()
        munis = {m.code: m for m in await self.session.scalars(select(Municipality))}
        schools = {
            s.code: s
            for s in await self.session.scalars(select(School).where(School.code.is_not(None)))
        }
        for order, ref in enumerate(data.municipalities):
            muni = munis.get(ref.code)
            report.add("municipalities", muni is None)
            if muni is None:
                muni = Municipality(code=ref.code)
                self.session.add(muni)
            muni.name_ru, muni.name_en = ref.name.ru, ref.name.en
            muni.region_ru, muni.region_en = ref.region.ru, ref.region.en
            muni.sort_order, muni.is_sample = order, data.sample
            await self.session.flush()
            for sref in ref.schools:
                school = schools.get(sref.code)
                report.add("schools", school is None)
                if school is None:
                    school = School(code=sref.code)
                    self.session.add(school)
                school.municipality_id = muni.id
                school.name, school.name_key = sref.name, school_key(sref.name)
                school.short_name, school.verified = sref.short, True
        subjects = {s.code: s for s in await self.session.scalars(select(Subject))}
        for order, subj in enumerate(data.subjects):
            row = subjects.get(subj.code)
            report.add("subjects", row is None)
            if row is None:
                row = Subject(code=subj.code)
                self.session.add(row)
            row.name_ru, row.name_en, row.sort_order = subj.name.ru, subj.name.en, order
        positions = {p.code: p for p in await self.session.scalars(select(Position))}
        for order, pos in enumerate(data.positions):
            prow = positions.get(pos.code)
            report.add("positions", prow is None)
            if prow is None:
                prow = Position(code=pos.code)
                self.session.add(prow)
            prow.name_ru, prow.name_en = pos.name.ru, pos.name.en
            prow.is_manager, prow.sort_order = pos.manager, order
        await self.session.flush()
        return report


class AuditRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self,
        action: str,
        *,
        actor: User | None = None,
        target: User | None = None,
        **details: Any,
    ) -> None:
        self.session.add(
            AuditEntry(
                action=action,
                actor_user_id=actor.id if actor else None,
                target_user_id=target.id if target else None,
                details=details,
            )
        )

    async def recent(self, limit: int = 20) -> list[AuditEntry]:
        return list(
            await self.session.scalars(
                select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
            )
        )


class FrameworkRepo:
    """Competency frameworks by version; the newest import is the active one."""

    _parsed: ClassVar[dict[str, Framework]] = {}

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def _parse(cls, version: str, document: dict[str, Any]) -> Framework:
        framework = cls._parsed.get(version)
        if framework is None:  # versions are immutable, so a parsed one can be kept
            framework = cls._parsed[version] = parse_framework(document)
        return framework

    async def add(self, document: dict[str, Any]) -> tuple[Framework, bool]:
        """Validate and store a framework; an existing version is kept as it was."""
        framework = parse_framework(document)
        existing = await self.session.scalar(
            select(FrameworkVersion).where(FrameworkVersion.version == framework.version)
        )
        if existing is not None:
            return self._parse(existing.version, existing.document), False
        self.session.add(FrameworkVersion(version=framework.version, document=document))
        await self.session.flush()
        return framework, True

    async def active(self) -> Framework | None:
        row = await self.session.scalar(
            select(FrameworkVersion).order_by(FrameworkVersion.id.desc()).limit(1)
        )
        return self._parse(row.version, row.document) if row else None

    async def get(self, version: str) -> Framework | None:
        row = await self.session.scalar(
            select(FrameworkVersion).where(FrameworkVersion.version == version)
        )
        return self._parse(row.version, row.document) if row else None


class AssessmentRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_attempt(self, user_id: int) -> Attempt | None:
        row: Attempt | None = await self.session.scalar(
            select(Attempt)
            .where(Attempt.user_id == user_id, Attempt.finished_at.is_(None))
            .order_by(Attempt.id.desc())
            .limit(1)
        )
        return row

    async def finished(self, user_id: int) -> list[Attempt]:
        """Finished attempts, oldest first."""
        return list(
            await self.session.scalars(
                select(Attempt)
                .where(Attempt.user_id == user_id, Attempt.finished_at.is_not(None))
                .order_by(Attempt.finished_at, Attempt.id)
            )
        )

    async def get(self, attempt_id: int) -> Attempt | None:
        return await self.session.get(Attempt, attempt_id)

    async def diagnosed(self, user_ids: list[int]) -> set[int]:
        """Which of these users have finished at least one self-assessment."""
        rows = await self.session.scalars(
            select(Attempt.user_id)
            .where(Attempt.user_id.in_(user_ids), Attempt.finished_at.is_not(None))
            .distinct()
        )
        return set(rows)

    async def start(self, user_id: int, version: str, is_manager: bool) -> Attempt:
        attempt = Attempt(user_id=user_id, framework_version=version, is_manager=is_manager)
        self.session.add(attempt)
        await self.session.flush()
        return attempt

    async def answers(self, attempt_id: int) -> dict[str, int]:
        rows = await self.session.execute(
            select(Answer.statement_code, Answer.value).where(Answer.attempt_id == attempt_id)
        )
        return {code: value for code, value in rows.tuples()}

    async def set_answer(self, attempt_id: int, statement_code: str, value: int) -> None:
        answer = await self.session.get(Answer, (attempt_id, statement_code))
        if answer is None:
            self.session.add(
                Answer(attempt_id=attempt_id, statement_code=statement_code, value=value)
            )
        else:
            answer.value = value
            answer.answered_at = utcnow()
        await self.session.flush()

    async def forget_answer(self, attempt_id: int, statement_code: str) -> None:
        await self.session.execute(
            delete(Answer).where(
                Answer.attempt_id == attempt_id, Answer.statement_code == statement_code
            )
        )

    async def discard(self, attempt: Attempt) -> None:
        """Drop an unfinished attempt and its answers ("start over")."""
        await self.session.delete(attempt)
        await self.session.flush()

    async def finish(self, attempt: Attempt, result: dict[str, Any]) -> None:
        attempt.result = result
        attempt.finished_at = utcnow()


class RouteRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def active(self, user_id: int) -> Route | None:
        row: Route | None = await self.session.scalar(
            select(Route)
            .where(Route.user_id == user_id, Route.status.in_(("active", "completed")))
            .order_by(Route.id.desc())
            .limit(1)
            .options(selectinload(Route.steps))
        )
        return row

    async def progress_of(self, user_ids: list[int]) -> dict[int, tuple[int, int]]:
        """(closed steps, all steps) of each user's current route."""
        rows = await self.session.execute(
            select(Route.user_id, RouteStep.status, func.count())
            .join(RouteStep, RouteStep.route_id == Route.id)
            .where(Route.user_id.in_(user_ids), Route.status.in_(("active", "completed")))
            .group_by(Route.user_id, RouteStep.status)
        )
        result: dict[int, tuple[int, int]] = {}
        for user_id, status, count in rows.tuples():
            closed, total = result.get(user_id, (0, 0))
            result[user_id] = (closed + (count if StepStatus(status).closed else 0), total + count)
        return result

    async def create(
        self, user_id: int, attempt_id: int | None, pace: str, steps: list[RouteStep]
    ) -> Route:
        """A new route; an earlier one is archived (it stays in the history)."""
        for old in await self.session.scalars(
            select(Route).where(Route.user_id == user_id, Route.status.in_(("active", "completed")))
        ):
            old.status = "archived"
        route = Route(user_id=user_id, attempt_id=attempt_id, pace=pace, status="active")
        route.steps = steps
        self.session.add(route)
        await self.session.flush()
        return route

    async def archived(self, user_id: int) -> list[Route]:
        """Earlier routes (replaced by a newer one), newest first, with their steps."""
        return list(
            await self.session.scalars(
                select(Route)
                .where(Route.user_id == user_id, Route.status == "archived")
                .order_by(Route.id.desc())
                .options(selectinload(Route.steps))
            )
        )

    async def archived_count(self, user_id: int) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(Route)
            .where(Route.user_id == user_id, Route.status == "archived")
        )
        return int(count or 0)

    async def get(self, route_id: int) -> Route | None:
        """A route of any status with its steps."""
        row: Route | None = await self.session.scalar(
            select(Route).where(Route.id == route_id).options(selectinload(Route.steps))
        )
        return row

    async def step(self, step_id: int) -> RouteStep | None:
        row: RouteStep | None = await self.session.scalar(
            select(RouteStep)
            .where(RouteStep.id == step_id)
            .options(selectinload(RouteStep.route).selectinload(Route.steps))
        )
        return row

    async def add_step(self, route: Route, step: RouteStep) -> None:
        step.position = max((s.position for s in route.steps), default=0) + 1
        route.steps.append(step)
        if route.status == "completed":
            route.status, route.completed_at = "active", None
        await self.session.flush()

    async def set_status(self, step: RouteStep, status: StepStatus) -> None:
        step.status = status.value
        step.completed_at = utcnow() if status.closed else None
        await self.session.flush()
        await self._sync_route(step.route_id)

    async def record_evidence(
        self,
        step: RouteStep,
        *,
        text: str | None,
        file_id: str | None,
        file_name: str | None,
        reflection: str | None,
    ) -> None:
        step.evidence_text = text
        step.evidence_file_id = file_id
        step.evidence_file_name = file_name
        step.reflection = reflection
        await self.set_status(step, StepStatus.DONE)

    async def _sync_route(self, route_id: int) -> None:
        """A route whose every step is closed is completed (and reopened if one opens).

        Counts in SQL: the caller may hold a step without its route's other steps loaded."""
        open_steps = await self.session.scalar(
            select(func.count())
            .select_from(RouteStep)
            .where(
                RouteStep.route_id == route_id,
                RouteStep.status.not_in([s.value for s in StepStatus if s.closed]),
            )
        )
        route = await self.session.get(Route, route_id)
        if route is None:
            return
        closed = not open_steps
        if closed and route.status == "active":
            route.status, route.completed_at = "completed", utcnow()
        elif not closed and route.status == "completed":
            route.status, route.completed_at = "active", None

    async def comments(self, route_id: int) -> list[RouteComment]:
        return list(
            await self.session.scalars(
                select(RouteComment)
                .where(RouteComment.route_id == route_id)
                .order_by(RouteComment.id)
            )
        )

    async def add_comment(self, route_id: int, author_id: int, text: str) -> None:
        self.session.add(RouteComment(route_id=route_id, author_user_id=author_id, text=text))
        await self.session.flush()


class Repo:
    """Facade handed to handlers by the session middleware."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.dirty_users: set[int] = set()
        self.users = UserRepo(session, self.dirty_users)
        self.reference = ReferenceRepo(session)
        self.audit = AuditRepo(session)
        self.frameworks = FrameworkRepo(session)
        self.assessments = AssessmentRepo(session)
        self.routes = RouteRepo(session)
        self.events = EventRepo(session)
        self.jobs = JobRepo(session)
        self.imports = ImportRepo(session)
