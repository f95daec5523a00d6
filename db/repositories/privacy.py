"""Personal data as the law asks: export (/mydata), erase (/deleteme), purge the unconsented."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from db.models import (
    Answer,
    Attempt,
    AuditEntry,
    Event,
    OutboxMessage,
    Registration,
    Route,
    RouteComment,
    RouteStep,
    School,
    Site,
    User,
    UserSubject,
)
from db.repositories.broadcasts import BroadcastRepo
from db.repositories.diagnoses import DiagnosisRepo
from db.repositories.staff import StaffRepo
from db.repositories.users import UserRepo
from domain.roles import Role


class PersonalDataRepo(UserRepo):
    """`repo.users`: `UserRepo` plus what personal-data law asks of it (152-FZ)."""

    async def erase(self, user: User, now: datetime) -> None:
        """Erase personal data (/deleteme); keep an anonymous row for statistics.

        Kept, as anonymous numbers: the user row's municipality, position and age band;
        finished self-assessments' scores (no answers); routes with their steps' competency,
        kind, status and dates (no evidence, reflection or methodists' words); registrations'
        status, attendance and rating (no comment); audit entries (actions and ids only: the
        record of consent and its withdrawal). Everything else about the person goes (their
        external diagnoses too). Seats are released before this by the caller (`services.privacy.erase_user`).
        """
        self._touch(user)
        uid = user.id
        own_routes = select(Route.id).where(Route.user_id == uid).scalar_subquery()
        own_attempts = select(Attempt.id).where(Attempt.user_id == uid).scalar_subquery()
        await self.session.execute(delete(UserSubject).where(UserSubject.user_id == uid))
        # the messages queued for them: their texts may quote a methodist about them
        await self.session.execute(delete(OutboxMessage).where(OutboxMessage.user_id == uid))
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
        await BroadcastRepo(self.session).forget_person(uid, now)
        await StaffRepo(self.session, set()).forget_person(uid)
        await DiagnosisRepo(self.session).forget_person(uid)
        school_id = user.school_id
        user.telegram_id = None
        user.full_name = None
        user.username = None
        user.school_id = None
        user.experience_years = None
        user.pending_payload = None
        user.mentor_volunteer = False
        user.timezone = None
        user.quiet_hours = None
        user.muted = []
        user.consent = "withdrawn"
        user.consent_version = None
        user.consent_at = None
        user.role = Role.TEACHER.value
        user.erased_at = now
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

    async def export(self, user_id: int, now: datetime) -> dict[str, Any]:
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
            "exported_at": _iso(now),
            "telegram_id": user.telegram_id,
            "username": user.username,
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
            "settings": {
                "timezone": user.timezone,
                "quiet_hours": user.quiet_hours,
                "muted": list(user.muted or []),
            },
            "pending_link": user.pending_payload,
            "created_at": _iso(user.created_at),
            "updated_at": _iso(user.updated_at),
            "erased_at": _iso(user.erased_at),
            "assessments": await self._export_assessments(user_id),
            "external_diagnoses": await DiagnosisRepo(self.session).export_own(user_id),
            "routes": await self._export_routes(user_id, user.language),
            "registrations": await self._export_registrations(user_id),
            "as_methodist": await self._export_authored(user_id, user.language),
            "messages": await self._export_messages(user_id),
            "staff": await StaffRepo(self.session, set()).export(user_id),
            "history": history,
        }

    async def _export_messages(self, user_id: int) -> list[dict[str, Any]]:
        """What the bot queued for the person (notifications, reminders, methodists' words)."""
        return [
            {
                "id": row.id,
                "kind": row.kind,
                "content": row.payload,
                "key": row.key,
                "due_at": _iso(row.due_at),
                "state": row.state,
                "attempts": row.attempts,
                "error": row.last_error,
                "created_at": _iso(row.created_at),
                "sent_at": _iso(row.sent_at),
            }
            for row in await self.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.user_id == user_id)
                .order_by(OutboxMessage.id)
            )
        ]

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
            "diagnoses_imported": await DiagnosisRepo(self.session).export_imported(user_id),
            **await BroadcastRepo(self.session).export_of(user_id),
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
