"""The route use cases (services.route) on SQLite and PostgreSQL, without aiogram: a teacher of
the sample data builds a route from the results, is asked before it is replaced, works its
steps (the sample events that would complete them are offered), gives evidence, finishes it,
reads the archive and the PDF's data; the staff see a teacher only within their scope."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import OutboxMessage
from db.reference.sample_events import SAMPLE_EVENT_CODES, TRICKY_TITLE
from db.repo import Repo
from db.types import utcnow
from domain.notices import NoticeKind
from domain.reminders import CATEGORY
from domain.roles import Role
from domain.route import Pace, StepStatus
from services import route as service
from services.route import Builder, Overview, Refusal, ReplaceQuestion, StepChanged
from tests.sample_teacher import WEAK, answer_all, fill_profile, ids, sample_teacher
from tests.staffing import make_staff

Maker = async_sessionmaker[AsyncSession]
TODAY = date(2026, 9, 1)
#: the caller's clock, years away from the wall clock: what the use cases stamp is this
AWAY = datetime(2031, 3, 14, 9, 30, tzinfo=UTC)


async def _built(repo: Repo, user_id: int, pace: str = "normal") -> Overview:
    built = await service.build(repo, user_id, [WEAK], pace, None, TODAY)
    assert isinstance(built, Overview)
    return built


async def test_a_route_is_built_from_the_results_and_replaced_only_when_agreed(
    sessionmaker: Maker,
) -> None:
    sample = await sample_teacher(sessionmaker)
    uid = sample.user_id
    async with sessionmaker() as session:
        repo = Repo(session)
        # no self-assessment yet: nothing to build from
        assert await service.home(repo, uid) is Refusal.NO_RESULT
        assert await service.from_results(repo, uid) is Refusal.NO_RESULT
        assert await service.build(repo, uid, [WEAK], "normal", None, TODAY) is Refusal.STALE
        await answer_all(repo, uid)

        builder = await service.home(repo, uid)
        assert isinstance(builder, Builder)
        assert (builder.chosen, builder.pace, builder.has_past, builder.replace) == (
            (WEAK,),
            Pace.NORMAL,
            False,
            None,
        )
        toggled = await service.toggle(repo, uid, builder.chosen, "digital", None)
        assert isinstance(toggled, Builder) and toggled.chosen == (WEAK, "digital")
        toggled = await service.toggle(repo, uid, toggled.chosen, WEAK, None)
        assert isinstance(toggled, Builder) and toggled.chosen == ("digital",)
        assert await service.toggle(repo, uid, [], "nope", None) is Refusal.STALE
        # unknown codes in the choice are dropped; an empty choice or a bad pace is refused
        assert await service.build(repo, uid, ["nope"], "normal", None, TODAY) is (
            Refusal.NOTHING_CHOSEN
        )
        assert await service.build(repo, uid, [WEAK], "fast", None, TODAY) is Refusal.STALE

        first = await _built(repo, uid, "intensive")
        route = first.route
        assert (route.pace, route.status, first.past) == ("intensive", "active", 0)
        # a young teacher's track of the weak competency, copied from the framework
        assert [s.kind for s in route.steps] == [
            "learn",
            "practice",
            "masterclass",
            "mentoring",
            "transfer",
            "reflection",
        ]
        assert all(s.status == StepStatus.PLANNED and s.target_date > TODAY for s in route.steps)
        assert route.steps[0].content["competency"]["en"] == "Assessment, including formative"
        entry = (await repo.audit.recent(1))[0]
        assert (entry.action, entry.details) == (
            "route_built",
            {"route_id": route.id, "steps": 6},
        )
        await session.commit()

    async with sessionmaker() as session:
        repo = Repo(session)
        # a current route is never archived without asking
        question = await service.from_results(repo, uid)
        assert question == ReplaceQuestion(route.id, done=0, total=6, evidence=0)
        asked = await service.build(repo, uid, [WEAK], "normal", None, TODAY)
        assert asked == question
        assert await service.answer_replace(repo, uid, route.id + 100, True) is Refusal.STALE
        kept = await service.answer_replace(repo, uid, route.id, False)
        assert isinstance(kept, Overview) and kept.route.id == route.id

        agreed = await service.answer_replace(repo, uid, route.id, True)
        assert isinstance(agreed, Builder)
        assert (agreed.replace, agreed.pace) == (route.id, Pace.INTENSIVE)
        # a stale replace id (another route) still asks
        assert await service.build(repo, uid, [WEAK], "normal", route.id + 1, TODAY) == question
        second = await service.build(repo, uid, [WEAK], "relaxed", route.id, TODAY)
        assert isinstance(second, Overview) and second.route.id != route.id
        assert second.past == 1
        await session.commit()

    async with sessionmaker() as session:
        repo = Repo(session)
        past = await service.past_routes(repo, uid)
        assert isinstance(past, service.PastRoutes) and past.has_current
        assert [r.id for r in past.routes] == [route.id]
        one = await service.past_route(repo, uid, route.id)
        assert isinstance(one, service.PastRoute) and one.route.status == "archived"
        # the current route is not in the archive; nobody else's route is shown
        assert await service.past_route(repo, uid, second.route.id) is Refusal.STALE
        other, _ = await repo.users.get_or_create(5002, "ru")
        await session.flush()
        assert await service.past_route(repo, other.id, route.id) is Refusal.STALE
        assert await service.past_routes(repo, other.id) is Refusal.NO_PAST
        # an archived route's steps no longer change
        old_step = route.steps[0].id
        assert await service.step_card(repo, uid, old_step, utcnow()) is Refusal.STALE
        assert await service.change_status(repo, uid, old_step, "skipped", AWAY) is Refusal.STALE


async def test_steps_offer_sessions_take_evidence_and_complete_the_route(
    sessionmaker: Maker,
) -> None:
    sample = await sample_teacher(sessionmaker)
    uid = sample.user_id
    async with sessionmaker() as session:
        repo = Repo(session)
        other, _ = await repo.users.get_or_create(5002, "ru")
        await session.flush()
        await answer_all(repo, uid)
        steps = {s.kind: s for s in (await _built(repo, uid)).route.steps}
        now = utcnow()

        # the sample master-class and internship on assessment would complete those steps
        card = await service.step_card(repo, uid, steps["masterclass"].id, now)
        assert isinstance(card, service.StepCard)
        assert [e.title for e in card.sessions] == [TRICKY_TITLE]
        card = await service.step_card(repo, uid, steps["practice"].id, now)
        assert isinstance(card, service.StepCard)
        assert [e.code for e in card.sessions] == [SAMPLE_EVENT_CODES[1]]
        card = await service.step_card(repo, uid, steps["learn"].id, now)
        assert isinstance(card, service.StepCard) and card.sessions == ()
        # after the events have taken place nothing is offered
        card = await service.step_card(repo, uid, steps["masterclass"].id, now + timedelta(days=60))
        assert isinstance(card, service.StepCard) and card.sessions == ()
        assert await service.step_card(repo, other.id, steps["learn"].id, now) is Refusal.STALE

        track = await service.competency_steps(repo, uid, WEAK)
        assert isinstance(track, tuple) and len(track) == 6
        assert await service.competency_steps(repo, uid, "digital") is Refusal.STALE
        assert await service.competency_steps(repo, other.id, WEAK) is Refusal.STALE

        learn = steps["learn"].id
        changed = await service.change_status(repo, uid, learn, "in_progress", AWAY)
        assert isinstance(changed, StepChanged) and not changed.route_completed
        assert changed.step.status == StepStatus.IN_PROGRESS
        assert changed.step.completed_at is None
        assert await service.change_status(repo, uid, learn, "bogus", AWAY) is Refusal.STALE
        assert await service.change_status(repo, other.id, learn, "done", AWAY) is Refusal.STALE
        # ✅ Done asks for evidence first and changes nothing yet
        assert await service.change_status(
            repo, uid, learn, "done", AWAY
        ) == service.EvidenceNeeded(learn)
        assert (await repo.routes.step(learn)).status == StepStatus.IN_PROGRESS  # type: ignore[union-attr]

        assert await service.evidence_step(repo, other.id, learn) is Refusal.STEP_GONE
        assert await service.record_evidence(
            repo, other.id, learn, AWAY, text="x", file_id=None, file_name=None, reflection="y"
        ) is (Refusal.STEP_GONE)
        done = await service.record_evidence(
            repo,
            uid,
            learn,
            AWAY,
            text="Конспект <курса> & тест",
            file_id=None,
            file_name=None,
            reflection="Стала чаще давать обратную связь",
        )
        assert isinstance(done, StepChanged) and not done.route_completed
        assert (done.step.status, done.step.evidence_text) == ("done", "Конспект <курса> & тест")
        assert done.step.completed_at == AWAY  # the caller's moment, not the wall clock's
        await session.commit()

    async with sessionmaker() as session:
        repo = Repo(session)
        # closing the last open step completes the route; reopening one makes it active again
        results = []
        others = [step for step in steps.values() if step.kind != "learn"]
        for day, step in enumerate(others, start=1):
            at = AWAY + timedelta(days=day)
            results.append(await service.change_status(repo, uid, step.id, "skipped", at))
        assert [isinstance(r, StepChanged) and r.route_completed for r in results] == [
            False,
            False,
            False,
            False,
            True,
        ]
        assert [r.step.completed_at for r in results if isinstance(r, StepChanged)] == [
            AWAY + timedelta(days=day) for day in range(1, 6)
        ]
        overview = await service.overview(repo, uid)
        assert isinstance(overview, Overview) and overview.route.status == "completed"
        # completed when its last step was closed, by the caller's clock
        assert overview.route.completed_at == AWAY + timedelta(days=5)
        reopened = await service.change_status(
            repo, uid, steps["reflection"].id, "planned", AWAY + timedelta(days=6)
        )
        assert isinstance(reopened, StepChanged) and not reopened.route_completed
        assert reopened.step.route.status == "active"
        assert (reopened.step.completed_at, reopened.step.route.completed_at) == (None, None)

        exported = await service.export(repo, uid)
        assert isinstance(exported, service.RouteExport)
        assert exported.teacher.school is not None and exported.teacher.municipality is not None
        assert exported.result is not None and exported.result.deficits == (WEAK,)
        assert exported.framework is not None
        stranger = await repo.users.by_telegram_id(5002)
        assert stranger is not None
        assert await service.export(repo, stranger.id) is Refusal.STALE
        assert await service.overview(repo, stranger.id) is Refusal.STALE


async def test_staff_see_a_teacher_only_within_their_scope(sessionmaker: Maker) -> None:
    sample = await sample_teacher(sessionmaker)
    uid = sample.user_id
    async with sessionmaker() as session:
        repo = Repo(session)
        teacher = await repo.users.require(uid)
        await answer_all(repo, uid)
        route = (await _built(repo, uid)).route
        await repo.routes.add_comment(route.id, uid, "Хорошее начало & <b>план</b>")
        step = route.steps[0]
        await service.record_evidence(
            repo,
            uid,
            step.id,
            utcnow(),
            text=None,
            file_id="FILE",
            file_name="plan.pdf",
            reflection="ok",
        )
        staff = {}
        for tg, role, muni in (
            (6001, Role.COORDINATOR, sample.municipality_id),
            (6002, Role.COORDINATOR, sample.municipality_id + 1),
            (6003, Role.ADMIN, None),
        ):
            user, _ = await repo.users.get_or_create(tg, "ru")
            await session.flush()
            await make_staff(repo, user, role, muni)
            staff[tg] = user
        # another teacher, of the same municipality, without a result or a route
        fresh, _ = await repo.users.get_or_create(5003, "ru")
        await session.flush()
        muni_id, school_id = await ids(repo)
        await fill_profile(repo, fresh.id, muni_id, school_id)
        await session.commit()

    async with sessionmaker() as session:
        repo = Repo(session)
        coordinator = await repo.users.require(staff[6001].id)
        card = await service.teacher_card(repo, coordinator, Role.COORDINATOR, 5001)
        assert isinstance(card, service.TeacherCard)
        assert card.teacher.school is not None and card.teacher.position is not None
        assert card.result is not None and card.result.deficits == (WEAK,)
        assert card.framework is not None
        assert card.route is not None and card.route.id == route.id and card.past == 0
        assert [c.text for c in card.comments] == ["Хорошее начало & <b>план</b>"]

        empty = await service.teacher_card(repo, coordinator, Role.COORDINATOR, 5003)
        assert isinstance(empty, service.TeacherCard)
        assert (empty.result, empty.route, empty.comments) == (None, None, ())

        outsider = await repo.users.require(staff[6002].id)
        assert await service.teacher_card(repo, outsider, Role.COORDINATOR, 5001) is (
            Refusal.NOT_IN_SCOPE
        )
        assert await service.teacher_in_scope(repo, outsider, Role.COORDINATOR, uid) is (
            Refusal.NOT_IN_SCOPE
        )
        assert await service.teacher_card(repo, coordinator, Role.COORDINATOR, 999) is (
            Refusal.NOT_IN_SCOPE
        )
        admin = await repo.users.require(staff[6003].id)
        assert isinstance(
            await service.teacher_card(repo, admin, Role.ADMIN, 5001), service.TeacherCard
        )

        found = await service.evidence_file(repo, teacher.id, step.id)
        assert found is not None and found.evidence_file_id == "FILE"
        assert await service.evidence_file(repo, fresh.id, step.id) is None
        assert await service.evidence_file(repo, teacher.id, route.steps[1].id) is None


async def _told(repo: Repo, user_id: int) -> list[OutboxMessage]:
    """The user's outbox rows other than reminders (the route's and the self-assessment's
    reminders are planned as the route is built: tests/test_services_nudges.py)."""
    return [r for r in await repo.outbox.of_user(user_id) if NoticeKind(r.kind) not in CATEGORY]


async def test_a_methodists_comment_and_step_reach_only_teachers_in_scope(
    sessionmaker: Maker,
) -> None:
    """The comment and the added step are kept and queued for the teacher in the same unit
    of work; a coordinator of another municipality is refused and nothing is queued."""
    sample = await sample_teacher(sessionmaker)
    uid = sample.user_id
    now = datetime.now(UTC)
    async with sessionmaker() as session:
        repo = Repo(session)
        await answer_all(repo, uid)
        await _built(repo, uid)
        staff = []
        for tg, muni in ((6101, sample.municipality_id), (6102, sample.municipality_id + 1)):
            user, _ = await repo.users.get_or_create(tg, "ru")
            await session.flush()
            await make_staff(repo, user, Role.COORDINATOR, muni)
            staff.append(user)
        await session.commit()
    own, stranger = staff
    async with sessionmaker() as session:
        repo = Repo(session)
        refused = await service.comment_on_route(repo, stranger, Role.COORDINATOR, uid, "x", now)
        assert refused is service.Refusal.NOT_IN_SCOPE
        refused = await service.add_methodist_step(
            repo, stranger, Role.COORDINATOR, uid, "x", now.date(), now
        )
        assert refused is service.Refusal.NOT_IN_SCOPE
        assert await _told(repo, uid) == []
        done = await service.comment_on_route(
            repo, own, Role.COORDINATOR, uid, "Молодец & <b>так</b>", now
        )
        assert not isinstance(done, service.Refusal)
        step = await service.add_methodist_step(
            repo, own, Role.COORDINATOR, uid, "Открытый урок", now.date(), now
        )
        assert not isinstance(step, service.Refusal)
        await session.commit()
    async with sessionmaker() as session:
        repo = Repo(session)
        queued = await _told(repo, uid)
        assert [(r.kind, r.payload) for r in queued] == [
            ("route_comment", {"text": "Молодец & <b>так</b>"}),
            ("route_step_added", {"title": "Открытый урок"}),
        ]
        route = await repo.routes.active(uid)
        assert route is not None
        assert [s.content["title"]["ru"] for s in route.steps if s.kind == "custom"] == [
            "Открытый урок"
        ]
