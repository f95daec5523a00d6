"""Route use cases: the builder (competencies, pace, replacing the current route), the route's
screens (overview, one competency, a step with the sessions that would complete it), step
status and evidence, past routes, the PDF's data, and a teacher's route seen by the staff.

Each function runs in the caller's unit of work (`db.repo.Repo`) and never commits; nothing
here talks to Telegram. Ownership is checked here for every id that arrives from a button:
a route or step that is not the user's (or is archived where it must not be) is refused with
`Refusal.STALE`. Route building and progress are `domain.route`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum

from db.models import Event, Route, RouteComment, RouteStep, User
from db.repo import Repo
from db.repositories.teacher_events import TeacherEvents
from domain.assessment import AssessmentResult
from domain.attendance import STEP_FOR_KIND
from domain.framework import Framework
from domain.notices import Notice, NoticeKind
from domain.profile import is_young_teacher
from domain.roles import Role
from domain.route import (
    Pace,
    PlannedStep,
    StepStatus,
    adjust,
    build_route,
    default_competencies,
    replace_summary,
)
from services.nudges import plan_route

__all__ = [
    "ARCHIVED",
    "Builder",
    "EvidenceNeeded",
    "Overview",
    "PastRoute",
    "PastRoutes",
    "Refusal",
    "ReplaceQuestion",
    "RouteExport",
    "StepCard",
    "StepChanged",
    "TeacherCard",
    "answer_replace",
    "build",
    "change_status",
    "competency_steps",
    "evidence_file",
    "evidence_step",
    "export",
    "from_results",
    "home",
    "matching_events",
    "open_builder",
    "overview",
    "past_route",
    "past_routes",
    "record_evidence",
    "step_card",
    "teacher_card",
    "teacher_in_scope",
    "toggle",
]

ARCHIVED = "archived"
COMPLETED = "completed"


class Refusal(StrEnum):
    #: the button does not fit any more (not the user's route or step, an unknown value)
    STALE = "stale"
    #: no finished self-assessment: the route is built from its results
    NO_RESULT = "no_result"
    #: the builder's Start with no competency chosen
    NOTHING_CHOSEN = "nothing_chosen"
    #: no archived routes to list
    NO_PAST = "no_past"
    #: the step being given evidence is gone (or not the user's)
    STEP_GONE = "step_gone"
    #: the teacher is not in the staff member's municipality (or unknown)
    NOT_IN_SCOPE = "not_in_scope"


@dataclass(frozen=True, slots=True)
class Builder:
    """The builder screen: the latest result, the chosen competencies and the pace marked."""

    framework: Framework
    result: AssessmentResult
    chosen: tuple[str, ...]
    #: the current route's pace (the one marked), normal without a route
    pace: Pace
    has_past: bool
    #: the id of the current route the teacher agreed to replace (None: never archive one)
    replace: int | None = None


@dataclass(frozen=True, slots=True)
class Overview:
    route: Route
    #: how many archived routes the owner has
    past: int


@dataclass(frozen=True, slots=True)
class ReplaceQuestion:
    """A current route exists: ask before a new one replaces (archives) it."""

    route_id: int
    done: int
    total: int
    evidence: int


@dataclass(frozen=True, slots=True)
class StepCard:
    step: RouteStep
    #: upcoming events open to the teacher that would complete the step (open steps only)
    sessions: tuple[Event, ...]


@dataclass(frozen=True, slots=True)
class StepChanged:
    step: RouteStep
    #: this change closed the route's last open step
    route_completed: bool


@dataclass(frozen=True, slots=True)
class EvidenceNeeded:
    """✅ Done asks for evidence first; nothing is stored until it arrives."""

    step_id: int


@dataclass(frozen=True, slots=True)
class PastRoutes:
    routes: tuple[Route, ...]
    has_current: bool


@dataclass(frozen=True, slots=True)
class PastRoute:
    route: Route
    has_current: bool


@dataclass(frozen=True, slots=True)
class RouteExport:
    """What the PDF shows: the route, the teacher (with school, municipality, position) and
    the latest self-assessment for the score lines (None when there is none)."""

    route: Route
    teacher: User
    result: AssessmentResult | None
    framework: Framework | None


@dataclass(frozen=True, slots=True)
class TeacherCard:
    """A teacher as a coordinator sees them: profile, latest result, route and comments."""

    teacher: User
    result: AssessmentResult | None
    framework: Framework | None
    route: Route | None
    past: int
    comments: tuple[RouteComment, ...]


# ---------------------------------------------------------------- helpers


async def _latest_result(repo: Repo, user_id: int) -> tuple[int, AssessmentResult] | None:
    finished = [a for a in await repo.assessments.finished(user_id) if a.result]
    if not finished or finished[-1].result is None:
        return None
    return finished[-1].id, AssessmentResult.from_json(finished[-1].result)


async def _framework(repo: Repo, result: AssessmentResult) -> Framework:
    framework = await repo.frameworks.get(result.framework_version)
    assert framework is not None
    return framework


async def _builder(
    repo: Repo,
    user_id: int,
    framework: Framework,
    result: AssessmentResult,
    chosen: Sequence[str],
    replace: int | None,
) -> Builder:
    current = await repo.routes.active(user_id)
    return Builder(
        framework=framework,
        result=result,
        chosen=tuple(chosen),
        pace=Pace(current.pace) if current is not None else Pace.NORMAL,
        has_past=bool(await repo.routes.archived_count(user_id)),
        replace=replace,
    )


async def _overview(repo: Repo, route: Route) -> Overview:
    return Overview(route, await repo.routes.archived_count(route.user_id))


def _replace_question(route: Route) -> ReplaceQuestion:
    done, total, evidence = replace_summary(
        [StepStatus(s.status) for s in route.steps],
        [bool(s.evidence_text or s.evidence_file_id) for s in route.steps],
    )
    return ReplaceQuestion(route.id, done, total, evidence)


async def _own_step(repo: Repo, user_id: int, step_id: int) -> RouteStep | None:
    """The user's step of a current (not archived) route, with its route and the route's steps."""
    step = await repo.routes.step(step_id)
    if step is None or step.route.user_id != user_id or step.route.status == ARCHIVED:
        return None
    return step


def _step_rows(framework: Framework, planned: Sequence[PlannedStep]) -> list[RouteStep]:
    """The planned steps as rows: the texts are copied from the framework's templates, so a
    later framework version never changes a route already built."""
    steps = []
    for position, item in enumerate(planned, start=1):
        template = item.template
        competency = framework.competency(item.competency).title
        steps.append(
            RouteStep(
                position=position,
                competency=item.competency,
                number=item.number,
                kind=template.kind.value,
                target_date=item.target,
                status=StepStatus.PLANNED.value,
                content={
                    "title": {"ru": template.title.ru, "en": template.title.en},
                    "what": {"ru": template.what.ru, "en": template.what.en},
                    "how": {"ru": template.how.ru, "en": template.how.en},
                    "competency": {"ru": competency.ru, "en": competency.en},
                    "resources": [
                        {"title": {"ru": r.title.ru, "en": r.title.en}, "url": r.url}
                        for r in item.resources
                    ],
                },
            )
        )
    return steps


# ---------------------------------------------------------------- the builder


async def open_builder(repo: Repo, user_id: int, replace: int | None = None) -> Builder | Refusal:
    """The builder with the suggested competencies (the largest gaps); `replace` is the id of
    the current route the teacher agreed to replace."""
    latest = await _latest_result(repo, user_id)
    if latest is None:
        return Refusal.NO_RESULT
    framework = await _framework(repo, latest[1])
    chosen = default_competencies(latest[1], framework.settings.route_size)
    return await _builder(repo, user_id, framework, latest[1], chosen, replace)


async def home(repo: Repo, user_id: int) -> Overview | Builder | Refusal:
    """/route: the current route, or the builder when there is none."""
    route, past = await repo.routes.active_with_past(user_id)
    if route is None:
        return await open_builder(repo, user_id)
    return Overview(route, past)


async def from_results(repo: Repo, user_id: int) -> ReplaceQuestion | Builder | Refusal:
    """🧭 Build my route / 🔄 New route: with a current route, ask before replacing it."""
    current = await repo.routes.active(user_id)
    if current is not None:
        return _replace_question(current)
    return await open_builder(repo, user_id)


async def answer_replace(
    repo: Repo, user_id: int, route_id: int, confirm: bool
) -> Builder | Overview | Refusal:
    """The answer to the replace question: the builder (allowed to replace exactly this
    route) or, kept, the current route."""
    current = await repo.routes.active(user_id)
    if current is None or current.id != route_id:
        return Refusal.STALE
    if confirm:
        return await open_builder(repo, user_id, replace=current.id)
    return await _overview(repo, current)


async def toggle(
    repo: Repo, user_id: int, chosen: Sequence[str], code: str, replace: int | None
) -> Builder | Refusal:
    """Add or remove one competency of the latest result."""
    latest = await _latest_result(repo, user_id)
    if latest is None:
        return Refusal.STALE
    result = latest[1]
    valid = {s.code for s in result.scores}
    if code not in valid:
        return Refusal.STALE
    kept = [c for c in chosen if c in valid]
    changed = adjust(kept, drop=[code]) if code in kept else adjust(kept, add=[code])
    return await _builder(repo, user_id, await _framework(repo, result), result, changed, replace)


async def build(
    repo: Repo,
    user_id: int,
    chosen: Sequence[str],
    pace: str,
    replace: int | None,
    today: date,
    now: datetime | None = None,
) -> Overview | ReplaceQuestion | Refusal:
    """Build the route (steps dated from `today`, the teacher's local date) and audit it;
    its reminders are planned (`now`: the bot's clock; the start of `today` if not given).

    A current route is archived only when `replace` names it: otherwise the teacher is asked
    first (`ReplaceQuestion`)."""
    latest = await _latest_result(repo, user_id)
    if latest is None:
        return Refusal.STALE
    attempt_id, result = latest
    valid = {s.code for s in result.scores}
    picked = [c for c in chosen if c in valid]
    try:
        chosen_pace = Pace(pace)
    except ValueError:
        return Refusal.STALE
    if not picked:
        return Refusal.NOTHING_CHOSEN
    current = await repo.routes.active(user_id)
    if current is not None and replace != current.id:
        return _replace_question(current)  # never archive a route without asking
    now = now or datetime.combine(today, time(0), tzinfo=UTC)
    user = await repo.users.require(user_id)
    framework = await _framework(repo, result)
    muni = await repo.reference.municipality(user.municipality_id or 0)
    planned = build_route(
        framework,
        picked,
        young=is_young_teacher(user.age_band, user.experience_years),
        pace=chosen_pace,
        start=today,
        region_names=(muni.region_ru, muni.region_en) if muni else (),
    )
    steps = _step_rows(framework, planned)
    route = await repo.routes.create(user_id, attempt_id, chosen_pace.value, steps)
    route.created_at = now  # the bot's clock: the route's progress is counted from it
    await repo.audit.record("route_built", actor=user, route_id=route.id, steps=len(steps))
    await plan_route(repo, user_id, now)
    return await _overview(repo, route)


# ---------------------------------------------------------------- the route's screens


async def overview(repo: Repo, user_id: int) -> Overview | Refusal:
    route = await repo.routes.active(user_id)
    if route is None:
        return Refusal.STALE
    return await _overview(repo, route)


async def competency_steps(repo: Repo, user_id: int, code: str) -> tuple[RouteStep, ...] | Refusal:
    """One competency's steps of the current route."""
    route = await repo.routes.active(user_id)
    if route is None:
        return Refusal.STALE
    track = tuple(s for s in route.steps if s.competency == code)
    return track or Refusal.STALE


async def matching_events(
    repo: Repo, user: User, step: RouteStep, now: datetime, limit: int = 3
) -> tuple[Event, ...]:
    """Upcoming events open to the teacher that would complete this step (same competency,
    a kind that maps to the step's kind)."""
    kinds = {kind.value for kind, step_kind in STEP_FOR_KIND.items() if step_kind == step.kind}
    if not kinds:
        return ()
    page, _total = await repo.events.for_teacher(
        TeacherEvents(
            now=now,
            municipality_id=user.municipality_id,
            position=user.position_code,
            subjects=tuple(await repo.users.subject_codes(user.id)),
            competency=step.competency,
            kinds=tuple(sorted(kinds)),
        ),
        0,
        limit,
    )
    return tuple(page.items)


async def step_card(repo: Repo, user_id: int, step_id: int, now: datetime) -> StepCard | Refusal:
    """A step of the user's current route with the sessions that would complete it."""
    step = await _own_step(repo, user_id, step_id)
    if step is None:
        return Refusal.STALE
    if StepStatus(step.status).closed:
        return StepCard(step, ())
    user = await repo.users.require(user_id)
    return StepCard(step, await matching_events(repo, user, step, now))


async def change_status(
    repo: Repo, user_id: int, step_id: int, status: str, now: datetime
) -> StepChanged | EvidenceNeeded | Refusal:
    """🔄 I'm on it / ⏭ Skip / ↩️ Reopen change the status at once; ✅ Done asks for evidence."""
    step = await _own_step(repo, user_id, step_id)
    if step is None:
        return Refusal.STALE
    try:
        new = StepStatus(status)
    except ValueError:
        return Refusal.STALE
    if new is StepStatus.DONE:
        return EvidenceNeeded(step.id)
    await repo.routes.set_status(step, new, now)
    await plan_route(repo, user_id, now)
    return StepChanged(step, step.route.status == COMPLETED)


async def evidence_step(repo: Repo, user_id: int, step_id: int) -> RouteStep | Refusal:
    """The step the evidence being typed is for, while it is still the user's."""
    step = await repo.routes.step(step_id)
    if step is None or step.route.user_id != user_id:
        return Refusal.STEP_GONE
    return step


async def record_evidence(
    repo: Repo,
    user_id: int,
    step_id: int,
    now: datetime,
    *,
    text: str | None,
    file_id: str | None,
    file_name: str | None,
    reflection: str,
) -> StepChanged | Refusal:
    """Store the evidence and the reflection; the step is done (and maybe the route)."""
    step = await evidence_step(repo, user_id, step_id)
    if isinstance(step, Refusal):
        return step
    await repo.routes.record_evidence(
        step, now, text=text, file_id=file_id, file_name=file_name, reflection=reflection
    )
    await plan_route(repo, user_id, now)
    return StepChanged(step, step.route.status == COMPLETED)


# ---------------------------------------------------------------- past routes and the PDF


async def past_routes(repo: Repo, user_id: int) -> PastRoutes | Refusal:
    """The user's archived routes, newest first."""
    has_current = await repo.routes.active(user_id) is not None
    routes = await repo.routes.archived(user_id)
    if not routes:
        return Refusal.NO_PAST
    return PastRoutes(tuple(routes), has_current)


async def past_route(repo: Repo, user_id: int, route_id: int) -> PastRoute | Refusal:
    """One archived route of the user, read-only."""
    has_current = await repo.routes.active(user_id) is not None
    route = await repo.routes.get(route_id)
    if route is None or route.user_id != user_id or route.status != ARCHIVED:
        return Refusal.STALE
    return PastRoute(route, has_current)


async def export(repo: Repo, user_id: int) -> RouteExport | Refusal:
    """The data of the route's PDF."""
    route = await repo.routes.active(user_id)
    if route is None:
        return Refusal.STALE
    teacher = await repo.users.get_full(user_id)
    assert teacher is not None
    latest = await _latest_result(repo, user_id)
    framework = await repo.frameworks.get(latest[1].framework_version) if latest else None
    return RouteExport(route, teacher, latest[1] if latest else None, framework)


# ---------------------------------------------------------------- the staff's view


async def teacher_in_scope(repo: Repo, staff: User, role: Role, user_id: int) -> User | Refusal:
    """The teacher (with school, municipality, position, subjects) when the staff member may
    see them: admins everyone, a coordinator their municipalities' teachers, a school
    methodist their school's."""
    teacher = await repo.users.get_full(user_id)
    if teacher is None or teacher.telegram_id is None:
        return Refusal.NOT_IN_SCOPE
    scope = await repo.staff.scope(staff, role)
    if scope is None or not scope.allows(teacher.municipality_id, teacher.school_id):
        return Refusal.NOT_IN_SCOPE
    return teacher


async def teacher_card(
    repo: Repo, staff: User, role: Role, telegram_id: int
) -> TeacherCard | Refusal:
    """/teacher <id>: the teacher's profile, latest result, current route and comments."""
    row = await repo.users.by_telegram_id(telegram_id)
    if row is None:
        return Refusal.NOT_IN_SCOPE
    teacher = await teacher_in_scope(repo, staff, role, row.id)
    if isinstance(teacher, Refusal):
        return teacher
    latest = await _latest_result(repo, teacher.id)
    result = latest[1] if latest else None
    framework = await repo.frameworks.get(result.framework_version) if result else None
    route = await repo.routes.active(teacher.id)
    comments = await repo.routes.comments(route.id) if route is not None else []
    return TeacherCard(
        teacher=teacher,
        result=result,
        framework=framework,
        route=route,
        past=await repo.routes.archived_count(teacher.id),
        comments=tuple(comments),
    )


async def evidence_file(repo: Repo, teacher_id: int, step_id: int) -> RouteStep | None:
    """A step of the teacher's (any) route that has an evidence file."""
    step = await repo.routes.step(step_id)
    if step is None or step.route.user_id != teacher_id or not step.evidence_file_id:
        return None
    return step


# ------------------------------------------------------------------ the methodist's words


async def comment_on_route(
    repo: Repo, staff: User, role: Role, teacher_id: int, text: str, now: datetime
) -> User | Refusal:
    """A methodist's comment on the teacher's route (kept with the route, if there is one);
    the teacher is told. The teacher, or why not."""
    teacher = await teacher_in_scope(repo, staff, role, teacher_id)
    if isinstance(teacher, Refusal):
        return teacher
    route = await repo.routes.active(teacher.id)
    if route is not None:
        await repo.routes.add_comment(route.id, staff.id, text)
    await repo.audit.record("route_comment", actor=staff, target=teacher)
    await repo.outbox.add([Notice(teacher.id, NoticeKind.ROUTE_COMMENT, {"text": text})], now)
    return teacher


async def add_methodist_step(
    repo: Repo, staff: User, role: Role, teacher_id: int, title: str, due: date, now: datetime
) -> User | Refusal:
    """A step of the methodist's own on the teacher's active route; the teacher is told."""
    teacher = await teacher_in_scope(repo, staff, role, teacher_id)
    if isinstance(teacher, Refusal):
        return teacher
    route = await repo.routes.active(teacher.id)
    if route is None:
        return Refusal.STALE
    await repo.routes.add_step(
        route,
        RouteStep(
            competency="custom",
            number=1 + sum(1 for s in route.steps if s.competency == "custom"),
            kind="custom",
            target_date=due,
            status="planned",
            added_by_user_id=staff.id,
            content={
                "title": {"ru": title, "en": title},
                "what": {"ru": "Задание методиста.", "en": "A task from your methodist."},
                "how": {
                    "ru": "Уточните детали у методиста.",
                    "en": "Ask your methodist for details.",
                },
                "competency": {"ru": "Задания методиста", "en": "Methodist's tasks"},
                "resources": [],
            },
        ),
    )
    await repo.audit.record("route_step_added", actor=staff, target=teacher)
    await plan_route(repo, teacher.id, now)
    await repo.outbox.add([Notice(teacher.id, NoticeKind.ROUTE_STEP_ADDED, {"title": title})], now)
    return teacher
