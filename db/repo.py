"""The one database layer: a `Repo` facade with one repository per area.

The queries live in `db.repositories.<area>`: `users` (+ `privacy`: export and erasure),
`reference`, `audit`, `assessment` (frameworks and attempts), `routes`, `events` (events, the
teacher's listing, the event lock), `registrations` (seats, waitlist, offers, attendance),
`sites`, `imports`, `outbox`, `jobs`, `stats` (monitoring), `staff` (scopes and invites) and `health` (/admin's numbers). Repositories never commit: the session middleware owns the unit of work
(one commit per update). Writes that change what `UserContext` caches are recorded in
`Repo.dirty_users` so the middleware can drop those cache entries after the commit.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories.assessment import AssessmentRepo, FrameworkRepo
from db.repositories.audit import AuditRepo
from db.repositories.broadcasts import BroadcastRepo
from db.repositories.diagnoses import DiagnosisRepo
from db.repositories.event_views import TeacherEventViews
from db.repositories.health import HealthRepo
from db.repositories.imports import ImportRepo
from db.repositories.jobs import JobRepo
from db.repositories.outbox import OutboxRepo
from db.repositories.privacy import PersonalDataRepo
from db.repositories.reference import ReferenceRepo
from db.repositories.registrations import RegistrationRepo
from db.repositories.routes import RouteRepo
from db.repositories.sites import SiteRepo
from db.repositories.staff import StaffRepo
from db.repositories.stats import StatsRepo
from domain.reminders import Policy


class EventArea(RegistrationRepo, SiteRepo, TeacherEventViews):
    """`repo.events`: events and the teacher's listing (`db.repositories.events`), their
    seats, waitlist, offers and attendance under the event lock
    (`db.repositories.registrations`), the internship sites (`db.repositories.sites`) and
    the teacher's card and list in one statement each (`db.repositories.event_views`)."""


class Repo:
    """Facade handed to handlers by the session middleware."""

    def __init__(self, session: AsyncSession, policy: Policy | None = None) -> None:
        self.session = session
        #: when reminders are planned (`Settings.reminders`): the use cases that plan them
        #: find it here, with the unit of work they write to
        self.policy = policy or Policy()
        self.dirty_users: set[int] = set()
        self.users = PersonalDataRepo(session, self.dirty_users)
        self.reference = ReferenceRepo(session)
        self.audit = AuditRepo(session)
        self.frameworks = FrameworkRepo(session)
        self.assessments = AssessmentRepo(session)
        self.routes = RouteRepo(session)
        self.events = EventArea(session)
        self.jobs = JobRepo(session)
        self.outbox = OutboxRepo(session)
        self.imports = ImportRepo(session)
        self.broadcasts = BroadcastRepo(session)
        self.stats = StatsRepo(session)
        self.staff = StaffRepo(session, self.dirty_users)
        self.health = HealthRepo(session)
        self.diagnoses = DiagnosisRepo(session)
