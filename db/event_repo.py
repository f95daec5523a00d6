"""Events, internship sites, registrations and persistent jobs.

Every change of an event's seats runs after `_lock`: an UPDATE of the event row that takes a
row lock on PostgreSQL and the write lock on SQLite, so concurrent sign-ups and cancellations
of one event are serialised and capacity is never exceeded (tests: 50 concurrent sign-ups for
10 seats on both databases).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Text,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, selectinload

from db.models import AuditEntry, Event, Job, Municipality, Registration, School, Site, User
from db.types import utcnow
from domain.attendance import Completion
from domain.event_import import EventDraft, SiteDraft
from domain.events import (
    Decision,
    EventFacts,
    EventStatus,
    Refusal,
    RegStatus,
    can_claim,
    offer_expiry,
    signup_decision,
    to_offer,
)
from domain.pagination import Page
from domain.route import StepStatus

SEAT_STATUSES = tuple(s.value for s in RegStatus if s.holds_seat)


def facts_of(event: Event) -> EventFacts:
    return EventFacts(
        status=EventStatus(event.status),
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        capacity=event.capacity,
        registration_deadline=event.registration_deadline,
    )


@dataclass(frozen=True, slots=True)
class SignUp:
    outcome: Decision | Refusal
    registration: Registration | None
    #: place in the waitlist (1 = next), when waitlisted
    position: int | None = None
    #: True when the user was already registered (a repeated tap): nothing changed
    repeated: bool = False


def _json_text(column: InstrumentedAttribute[list[str]]) -> ColumnElement[str]:
    return cast(column, Text)


def json_list_has(column: InstrumentedAttribute[list[str]], code: str) -> ColumnElement[bool]:
    """The JSON list of strings in `column` holds `code`, on SQLite and PostgreSQL alike.

    A LIKE on the JSON text for the quoted string (`"math"`, LIKE wildcards escaped): the quotes
    delimit whole elements, so `"math"` never matches `"mathematics"`, and both databases keep
    the text of a `JSON` value as written. JSON functions would be exact too but differ
    (`json_each` on SQLite, `json_array_elements_text` on PostgreSQL); the codes are slugs."""
    text = _json_text(column)
    needles = {json.dumps(code), json.dumps(code, ensure_ascii=False)}
    return or_(*(text.contains(needle, autoescape=True) for needle in sorted(needles)))


def json_list_empty(column: InstrumentedAttribute[list[str]]) -> ColumnElement[bool]:
    return or_(column.is_(None), _json_text(column).in_(["[]", "null"]))


@dataclass(frozen=True, slots=True)
class TeacherEvents:
    """Which upcoming events a teacher's list shows, as one SQL query.

    The audience (the same rule as `domain.events.eligible`): region-wide or of the teacher's
    municipality, positions empty or holding the teacher's, subjects empty or sharing one.
    Then the list's own filters; with `weights` (competency -> weight,
    `domain.events.interest_weights`) only events of positive relevance, soonest first."""

    now: datetime
    municipality_id: int | None
    position: str | None
    subjects: Sequence[str] = ()
    until: datetime | None = None
    organised_by: int | None = None
    competency: str | None = None
    kinds: Sequence[str] = ()
    site_id: int | None = None
    weights: Mapping[str, int] = field(default_factory=dict)
    relevant_only: bool = False

    def conditions(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = [
            Event.status == EventStatus.SCHEDULED.value,
            Event.starts_at > self.now,
            or_(
                Event.region_wide == true(),
                Event.municipality_id == self.municipality_id
                if self.municipality_id is not None
                else false(),
            ),
            or_(
                json_list_empty(Event.positions),
                json_list_has(Event.positions, self.position) if self.position else false(),
            ),
            or_(
                json_list_empty(Event.subjects),
                *(json_list_has(Event.subjects, code) for code in self.subjects),
            ),
        ]
        if self.until is not None:
            where.append(Event.starts_at <= self.until)
        if self.organised_by is not None:
            where.append(Event.municipality_id == self.organised_by)
        if self.competency is not None:
            where.append(json_list_has(Event.competencies, self.competency))
        if self.kinds:
            where.append(Event.kind.in_(list(self.kinds)))
        if self.site_id is not None:
            where.append(Event.site_id == self.site_id)
        if self.relevant_only:
            where.append(self.score() > 0)
        return where

    def score(self) -> ColumnElement[int]:
        """`domain.events.relevance` in SQL: the weights of the event's competencies."""
        terms = [
            case((json_list_has(Event.competencies, code), weight), else_=0)
            for code, weight in sorted(self.weights.items())
            if weight
        ]
        total: ColumnElement[int] = literal(0)
        for term in terms:
            total = total + term
        return total


class EventRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ------------------------------------------------------------------ reading

    async def get(self, event_id: int) -> Event | None:
        event: Event | None = await self.session.scalar(
            select(Event).where(Event.id == event_id).options(selectinload(Event.site))
        )
        return event

    async def for_teacher(
        self, query: TeacherEvents, page: int, per_page: int
    ) -> tuple[Page[Event], int]:
        """One page of the events a teacher may see and how many there are in all: filtered,
        counted and paged in SQL (soonest first; the page number is clamped, so a stale button
        never fails)."""
        where = and_(*query.conditions())
        total = int(
            await self.session.scalar(select(func.count()).select_from(Event).where(where)) or 0
        )
        pages = max(1, -(-total // per_page))
        page = min(max(page, 0), pages - 1)
        order: list[ColumnElement[Any]] = [Event.starts_at.asc()]
        if query.weights:
            order.append(query.score().desc())
        items = list(
            await self.session.scalars(
                select(Event)
                .where(where)
                .order_by(*order, Event.id)
                .limit(per_page)
                .offset(page * per_page)
            )
        )
        return Page(items=items, page=page, pages=pages), total

    async def site_title(self, site_id: int | None) -> str | None:
        """The title of an event's site, read by id (no relationship loading on the event)."""
        if site_id is None:
            return None
        title: str | None = await self.session.scalar(select(Site.title).where(Site.id == site_id))
        return title

    async def of_municipality(self, municipality_id: int | None, since: datetime) -> list[Event]:
        """Events organised by a municipality (all when None) that end after `since`."""
        query = select(Event).where(Event.ends_at > since).order_by(Event.starts_at, Event.id)
        if municipality_id is not None:
            query = query.where(Event.municipality_id == municipality_id)
        return list(await self.session.scalars(query.limit(100)))

    async def seats_taken(self, event_id: int) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(Registration)
            .where(Registration.event_id == event_id, Registration.status.in_(SEAT_STATUSES))
        )
        return int(count or 0)

    async def seats_taken_many(self, event_ids: Sequence[int]) -> dict[int, int]:
        rows = await self.session.execute(
            select(Registration.event_id, func.count())
            .where(Registration.event_id.in_(event_ids), Registration.status.in_(SEAT_STATUSES))
            .group_by(Registration.event_id)
        )
        return {event_id: int(count) for event_id, count in rows.tuples()}

    async def registration(self, event_id: int, user_id: int) -> Registration | None:
        reg: Registration | None = await self.session.scalar(
            select(Registration).where(
                Registration.event_id == event_id, Registration.user_id == user_id
            )
        )
        return reg

    async def registration_by_id(self, reg_id: int) -> Registration | None:
        reg: Registration | None = await self.session.scalar(
            select(Registration)
            .where(Registration.id == reg_id)
            .options(selectinload(Registration.event), selectinload(Registration.user))
        )
        return reg

    async def statuses_of(self, user_id: int, event_ids: Sequence[int]) -> dict[int, RegStatus]:
        rows = await self.session.execute(
            select(Registration.event_id, Registration.status).where(
                Registration.user_id == user_id, Registration.event_id.in_(event_ids)
            )
        )
        return {event_id: RegStatus(status) for event_id, status in rows.tuples()}

    async def waitlist_position(self, reg: Registration) -> int:
        ahead = await self.session.scalar(
            select(func.count())
            .select_from(Registration)
            .where(
                Registration.event_id == reg.event_id,
                Registration.status == RegStatus.WAITLISTED.value,
                Registration.queue_no < reg.queue_no,
            )
        )
        return int(ahead or 0) + 1

    async def of_user(self, user_id: int) -> list[Registration]:
        return list(
            await self.session.scalars(
                select(Registration)
                .join(Event, Event.id == Registration.event_id)
                .where(
                    Registration.user_id == user_id,
                    Registration.status != RegStatus.CANCELLED.value,
                )
                .order_by(Event.starts_at)
                .options(selectinload(Registration.event))
            )
        )

    async def participants(self, event_id: int) -> list[Registration]:
        return list(
            await self.session.scalars(
                select(Registration)
                .where(Registration.event_id == event_id)
                .order_by(Registration.queue_no)
                .options(selectinload(Registration.user))
            )
        )

    # ------------------------------------------------------------------ seats (under the lock)

    async def _lock(self, event_id: int) -> Event | None:
        await self.session.execute(
            update(Event)
            .where(Event.id == event_id)
            .values(lock_version=Event.lock_version + 1)
            .execution_options(synchronize_session=False)
        )
        # populate_existing refreshes an Event already in the session; without the selectinload
        # it would also reset its `site`, and a later `event.site` would lazy-load (an error in
        # async code): a site-linked event's card after a sign-up failed that way
        event: Event | None = await self.session.scalar(
            select(Event)
            .where(Event.id == event_id)
            .options(selectinload(Event.site))
            .execution_options(populate_existing=True)
        )
        return event

    async def lock(self, event_id: int) -> Event | None:
        """Take the event's row lock (held until the unit of work ends) and read it afresh:
        what `services.events` checks its rules under."""
        return await self._lock(event_id)

    async def _next_queue_no(self, event_id: int) -> int:
        top = await self.session.scalar(
            select(func.max(Registration.queue_no)).where(Registration.event_id == event_id)
        )
        return int(top or 0) + 1

    async def sign_up(
        self, event_id: int, user_id: int, now: datetime, *, eligible: bool
    ) -> SignUp:
        event = await self._lock(event_id)
        if event is None:
            return SignUp(Refusal.CANCELLED, None)
        reg = await self.registration(event_id, user_id)
        if reg is not None and RegStatus(reg.status).active:
            current = RegStatus(reg.status)
            outcome = Decision.WAITLIST if current is RegStatus.WAITLISTED else Decision.CONFIRM
            position = (
                await self.waitlist_position(reg) if current is RegStatus.WAITLISTED else None
            )
            return SignUp(outcome, reg, position, repeated=True)
        decision = signup_decision(
            facts_of(event), await self.seats_taken(event_id), now, eligible=eligible
        )
        if isinstance(decision, Refusal):
            return SignUp(decision, reg)
        status = RegStatus.CONFIRMED if decision is Decision.CONFIRM else RegStatus.WAITLISTED
        queue_no = await self._next_queue_no(event_id)
        if reg is None:
            reg = Registration(
                event_id=event_id, user_id=user_id, status=status.value, queue_no=queue_no
            )
            self.session.add(reg)
        else:  # signing up again after a cancellation: to the end of the queue
            reg.status, reg.queue_no, reg.offer_expires_at = status.value, queue_no, None
        await self.session.flush()
        position = await self.waitlist_position(reg) if status is RegStatus.WAITLISTED else None
        return SignUp(decision, reg, position)

    async def promote(self, event_id: int, now: datetime) -> list[Registration]:
        """Offer free seats to the first in the waitlist; the offered registrations."""
        event = await self._lock(event_id)
        if event is None or event.status != EventStatus.SCHEDULED.value or event.starts_at <= now:
            return []
        waitlist = list(
            await self.session.scalars(
                select(Registration)
                .where(
                    Registration.event_id == event_id,
                    Registration.status == RegStatus.WAITLISTED.value,
                )
                .order_by(Registration.queue_no)
                .options(selectinload(Registration.user), selectinload(Registration.event))
            )
        )
        chosen = set(
            to_offer(event.capacity, await self.seats_taken(event_id), [r.id for r in waitlist])
        )
        offered = [r for r in waitlist if r.id in chosen]
        for reg in offered:
            reg.status = RegStatus.OFFERED.value
            reg.offer_expires_at = offer_expiry(now, event.starts_at)
        await self.session.flush()
        return offered

    async def set_capacity(
        self, event_id: int, capacity: int, now: datetime
    ) -> list[Registration] | None:
        """Change the number of seats under the lock; never below the seats taken (None).
        Seats that appear are offered to the waitlist (the offered registrations)."""
        event = await self._lock(event_id)
        if event is None or capacity < await self.seats_taken(event_id):
            return None
        grew = capacity > event.capacity
        event.capacity = capacity
        await self.session.flush()
        return await self.promote(event_id, now) if grew else []

    async def cancel(self, reg: Registration) -> None:
        await self._lock(reg.event_id)
        reg.status, reg.offer_expires_at = RegStatus.CANCELLED.value, None
        await self.session.flush()

    async def claim(self, reg: Registration, now: datetime) -> bool:
        """The offered seat is taken if the offer still stands."""
        event = await self._lock(reg.event_id)
        await self.session.refresh(reg)
        if event is None or not can_claim(
            facts_of(event), RegStatus(reg.status), reg.offer_expires_at, now
        ):
            return False
        reg.status, reg.offer_expires_at = RegStatus.CONFIRMED.value, None
        await self.session.flush()
        return True

    async def expire_offer(self, reg_id: int, now: datetime) -> Registration | None:
        """An unclaimed offer lapses: the registration is cancelled (the caller promotes)."""
        reg = await self.registration_by_id(reg_id)
        if reg is None:
            return None
        await self._lock(reg.event_id)
        await self.session.refresh(reg)
        if reg.status != RegStatus.OFFERED.value or (
            reg.offer_expires_at and reg.offer_expires_at > now
        ):
            return None
        reg.status, reg.offer_expires_at = RegStatus.CANCELLED.value, None
        await self.session.flush()
        return reg

    async def mark_attended(self, reg: Registration, now: datetime, attended: bool = True) -> None:
        await self._lock(reg.event_id)
        reg.status = RegStatus.ATTENDED.value if attended else RegStatus.CONFIRMED.value
        reg.attended_at = now if attended else None
        await self.session.flush()

    #: the audit action that links a registration to the route step its attendance completed
    STEP_COMPLETED = "route_step_by_event"

    async def record_completion(self, reg: Registration, completion: Completion) -> None:
        """Remember which route step this registration's attendance completed, its status
        before and the evidence left, so that unticking the attendance can undo it."""
        self.session.add(
            AuditEntry(
                action=self.STEP_COMPLETED,
                target_user_id=reg.user_id,
                details={
                    "event_id": reg.event_id,
                    "registration_id": reg.id,
                    "step_id": completion.step_id,
                    "previous": completion.previous.value,
                    "evidence": completion.evidence,
                },
            )
        )
        await self.session.flush()

    async def last_completion(self, reg: Registration) -> Completion | None:
        """The route step the registration's attendance completed most recently, if any."""
        rows = await self.session.scalars(
            select(AuditEntry.details)
            .where(
                AuditEntry.action == self.STEP_COMPLETED,
                AuditEntry.target_user_id == reg.user_id,
            )
            .order_by(AuditEntry.id.desc())
        )
        for details in rows:
            if details.get("registration_id") == reg.id:
                return Completion(
                    step_id=int(details["step_id"]),
                    previous=StepStatus(str(details["previous"])),
                    evidence=str(details["evidence"]),
                )
        return None

    async def set_feedback(
        self, reg: Registration, rating: int, comment: str | None, now: datetime
    ) -> bool:
        """Feedback is taken once."""
        if reg.feedback_at is not None:
            return False
        reg.feedback_rating, reg.feedback_comment, reg.feedback_at = rating, comment, now
        await self.session.flush()
        return True

    # ------------------------------------------------------------------ managing events and sites

    async def add_event(self, event: Event) -> Event:
        self.session.add(event)
        await self.session.flush()
        return event

    async def complete(self, event: Event) -> None:
        if event.status == EventStatus.SCHEDULED.value:
            event.status = EventStatus.COMPLETED.value
            await self.session.flush()

    async def cancel_event(self, event: Event) -> list[Registration]:
        """Cancel the event; the active registrations to notify."""
        await self._lock(event.id)
        event.status = EventStatus.CANCELLED.value
        regs = [r for r in await self.participants(event.id) if RegStatus(r.status).active]
        await self.session.flush()
        return regs

    #: what a coordinator may change in a published event (handlers.event_admin)
    EDITABLE_EVENT_FIELDS = frozenset(
        {
            "title",
            "description",
            "starts_at",
            "ends_at",
            "place",
            "online_url",
            "registration_deadline",
        }
    )

    async def update_event(self, event: Event, **changes: Any) -> list[str]:
        """Change the given fields under the event lock (sign-ups read the times); the names
        of the fields whose value actually changed. Unknown fields are a programming error."""
        unknown = set(changes) - self.EDITABLE_EVENT_FIELDS
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        await self._lock(event.id)
        changed = [name for name, value in changes.items() if getattr(event, name) != value]
        for name in changed:
            setattr(event, name, changes[name])
        await self.session.flush()
        return changed

    #: what an import may change besides the editable fields and the capacity
    LISTING_FIELDS = frozenset(
        {
            "kind",
            "competencies",
            "site_id",
            "municipality_id",
            "region_wide",
            "positions",
            "subjects",
        }
    )

    async def update_listing(self, event: Event, **changes: Any) -> list[str]:
        """Like `update_event`, for `LISTING_FIELDS` (the caller holds the event lock)."""
        unknown = set(changes) - self.LISTING_FIELDS
        if unknown:
            raise ValueError(f"not a listing field: {sorted(unknown)}")
        changed = [name for name, value in changes.items() if getattr(event, name) != value]
        for name in changed:
            setattr(event, name, changes[name])
        await self.session.flush()
        return changed

    async def users_by_id(self, user_ids: Sequence[int]) -> dict[int, User]:
        """The users with these ids (the recipients of notices)."""
        if not user_ids:
            return {}
        found = await self.session.scalars(select(User).where(User.id.in_(set(user_ids))))
        return {user.id: user for user in found}

    async def active_registrants(self, event_id: int) -> list[Registration]:
        """Registrations still waiting for the event (confirmed, offered, waitlisted), with
        their users: the people to tell when its time or place changes."""
        waiting = (RegStatus.CONFIRMED.value, RegStatus.OFFERED.value, RegStatus.WAITLISTED.value)
        return [r for r in await self.participants(event_id) if r.status in waiting]

    async def site(self, site_id: int) -> Site | None:
        return await self.session.get(Site, site_id)

    async def site_by_code(self, code: str) -> Site | None:
        site: Site | None = await self.session.scalar(select(Site).where(Site.code == code))
        return site

    async def event_by_code(self, code: str) -> Event | None:
        event: Event | None = await self.session.scalar(select(Event).where(Event.code == code))
        return event

    async def sites(self, municipality_id: int | None = None) -> list[Site]:
        query = select(Site).order_by(Site.title).options(selectinload(Site.school))
        if municipality_id is not None:
            query = query.where(Site.municipality_id == municipality_id)
        return list(await self.session.scalars(query))

    async def site_events(self, site_id: int, now: datetime) -> list[Event]:
        return list(
            await self.session.scalars(
                select(Event)
                .where(
                    Event.site_id == site_id,
                    Event.status == EventStatus.SCHEDULED.value,
                    Event.starts_at > now,
                )
                .order_by(Event.starts_at)
            )
        )

    async def add_site(self, site: Site) -> Site:
        self.session.add(site)
        await self.session.flush()
        return site

    EDITABLE_SITE_FIELDS = frozenset({"title", "topic", "description", "contact", "modules"})

    async def update_site(self, site: Site, **changes: Any) -> list[str]:
        """Change the given fields of a site; the names of those whose value changed."""
        unknown = set(changes) - self.EDITABLE_SITE_FIELDS
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        changed = [name for name, value in changes.items() if getattr(site, name) != value]
        for name in changed:
            setattr(site, name, changes[name])
        await self.session.flush()
        return changed

    async def attended(self, user_id: int) -> list[Registration]:
        """The teacher's record of participation, oldest first."""
        return list(
            await self.session.scalars(
                select(Registration)
                .join(Event, Event.id == Registration.event_id)
                .where(
                    Registration.user_id == user_id, Registration.status == RegStatus.ATTENDED.value
                )
                .order_by(Event.starts_at)
                .options(selectinload(Registration.event))
            )
        )


@dataclass(frozen=True, slots=True)
class ImportCodes:
    """What an import needs to know about existing rows."""

    municipalities: dict[str, int]
    schools: dict[str, tuple[int, str]]  # school code -> (id, municipality code)
    sites: dict[str, tuple[int, str]]  # site code -> (id, municipality code)
    events: dict[str, str]  # event code -> organising municipality code


class ImportRepo:
    """Upserts of validated import drafts (domain.event_import) by their codes."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def codes(self) -> ImportCodes:
        munis = {
            code: mid
            for mid, code in (
                await self.session.execute(select(Municipality.id, Municipality.code))
            ).tuples()
        }
        by_id = {mid: code for code, mid in munis.items()}
        schools = {
            code: (sid, by_id[mid])
            for sid, code, mid in (
                await self.session.execute(
                    select(School.id, School.code, School.municipality_id).where(
                        School.code.is_not(None)
                    )
                )
            ).tuples()
            if code
        }
        sites = {
            code: (sid, by_id[mid])
            for sid, code, mid in (
                await self.session.execute(select(Site.id, Site.code, Site.municipality_id))
            ).tuples()
        }
        events = {
            code: by_id[mid]
            for code, mid in (
                await self.session.execute(
                    select(Event.code, Event.municipality_id).where(Event.code.is_not(None))
                )
            ).tuples()
            if code
        }
        return ImportCodes(munis, schools, sites, events)

    async def upsert_site(self, draft: SiteDraft, codes: ImportCodes) -> Site:
        site = await self.session.scalar(select(Site).where(Site.code == draft.code))
        if site is None:
            site = Site(code=draft.code)
            self.session.add(site)
        site.municipality_id = codes.municipalities[draft.municipality]
        site.school_id = codes.schools[draft.school][0] if draft.school else None
        site.title, site.topic = draft.title, draft.topic
        site.competencies = list(draft.competencies)
        site.description, site.contact = draft.description, draft.contact
        site.modules = [{"title": t, "hours": h} for t, h in draft.modules]
        await self.session.flush()
        return site

    async def event_values(
        self, draft: EventDraft, codes: ImportCodes, *, default_municipality: int
    ) -> dict[str, Any]:
        """The event columns a validated draft sets (all but the code, status and check-in
        code): creating and updating an event go through `services.events` with them."""
        site_id = None
        site_muni = None
        if draft.site:
            site = await self.session.scalar(select(Site).where(Site.code == draft.site))
            if site is not None:
                site_id, site_muni = site.id, site.municipality_id
        return {
            "kind": draft.kind,
            "title": draft.title,
            "description": draft.description,
            "competencies": list(draft.competencies),
            "site_id": site_id,
            "region_wide": draft.municipality is None,
            "municipality_id": codes.municipalities[draft.municipality]
            if draft.municipality
            else (site_muni or default_municipality),
            "positions": list(draft.positions),
            "subjects": list(draft.subjects),
            "starts_at": draft.starts_at,
            "ends_at": draft.ends_at,
            "place": draft.place,
            "online_url": draft.online_url,
            "capacity": draft.capacity,
            "registration_deadline": draft.registration_deadline,
        }

    async def event_ids(self, codes: Sequence[str]) -> dict[str, int]:
        """Existing events by code."""
        if not codes:
            return {}
        rows = await self.session.execute(
            select(Event.code, Event.id).where(Event.code.in_(set(codes)))
        )
        return {code: event_id for code, event_id in rows.tuples() if code}


class JobRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def schedule(self, kind: str, run_at: datetime, **payload: Any) -> Job:
        job = Job(kind=kind, run_at=run_at, payload=payload)
        self.session.add(job)
        await self.session.flush()
        return job

    async def due(self, now: datetime, limit: int = 50) -> list[Job]:
        return list(
            await self.session.scalars(
                select(Job)
                .where(Job.done_at.is_(None), Job.run_at <= now, Job.attempts < 5)
                .order_by(Job.run_at, Job.id)
                .limit(limit)
            )
        )

    async def pending(self, kind: str | None = None) -> list[Job]:
        query = select(Job).where(Job.done_at.is_(None)).order_by(Job.run_at, Job.id)
        if kind is not None:
            query = query.where(Job.kind == kind)
        return list(await self.session.scalars(query))

    async def reschedule(self, kind: str, event_id: int, run_at: datetime | None) -> Job | None:
        """Move the pending `kind` job of an event to `run_at`: the first pending row is moved,
        any other pending rows are closed (done_at = now), and a new row is scheduled when none
        is pending (say, a reminder already sent before the event moved later). `run_at=None`
        closes every pending row and schedules nothing. The job that will run, if any."""
        rows = [j for j in await self.pending(kind) if j.payload.get("event_id") == event_id]
        kept = rows[0] if rows and run_at is not None else None
        now = utcnow()
        for job in rows:
            if job is not kept:
                job.done_at = now
        if kept is not None and run_at is not None:
            kept.run_at = run_at
            # whom a partly delivered run reached (scheduler.jobs) was told about the old time
            kept.payload = {k: v for k, v in kept.payload.items() if k != "sent"}
        await self.session.flush()
        if kept is None and run_at is not None:
            return await self.schedule(kind, run_at, event_id=event_id)
        return kept

    async def finish(self, job: Job, error: str | None = None) -> None:
        job.attempts += 1
        if error is None:
            job.done_at = utcnow()
        job.last_error = error


__all__ = [
    "EventRepo",
    "ImportCodes",
    "ImportRepo",
    "JobRepo",
    "SignUp",
    "TeacherEvents",
    "User",
    "facts_of",
    "json_list_has",
]
