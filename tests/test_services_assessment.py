"""The self-assessment use cases (services.assessment) on SQLite and PostgreSQL, without
aiogram: a teacher of the sample data starts, answers, goes back, pauses, resumes, restarts,
finishes, is held to the retake date, reads the results and volunteers to mentor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Answer
from db.repo import Repo
from db.types import utcnow
from services import assessment as service
from services.assessment import Finished, Question, Refusal
from tests.sample_teacher import WEAK, answer_all, framework, sample_teacher

Maker = async_sessionmaker[AsyncSession]
#: the caller's clock, years away from the wall clock: what the use cases stamp is this
AWAY = datetime(2031, 3, 14, 9, 30, tzinfo=UTC)


async def _actions(repo: Repo) -> list[str]:
    return [entry.action for entry in reversed(await repo.audit.recent(50))]


async def test_an_attempt_is_started_answered_paused_and_resumed(sessionmaker: Maker) -> None:
    sample = await sample_teacher(sessionmaker)
    now = utcnow()
    async with sessionmaker() as session:
        repo = Repo(session)
        other, _ = await repo.users.get_or_create(5002, "ru")
        await session.flush()
        total = len((await framework(repo)).statements(False))

        intro = await service.begin(repo, sample.user_id, now)
        assert isinstance(intro, service.Intro) and intro.statements == total == 44

        first = await service.start(repo, sample.user_id, now)
        assert isinstance(first, Question) and first.statement == first.statements[0]
        again = await service.start(repo, sample.user_id, now)  # a double tap: the same attempt
        assert isinstance(again, Question) and again.attempt_id == first.attempt_id

        attempt = first.attempt_id
        code = first.statement.code
        # taps that do not fit: unknown statement, value off the scale, someone else's attempt
        assert await service.answer(repo, sample.user_id, attempt, "nope", 1, now) is Refusal.STALE
        assert await service.answer(repo, sample.user_id, attempt, code, 5, now) is Refusal.STALE
        assert await service.answer(repo, other.id, attempt, code, 1, now) is Refusal.STALE
        assert await service.resume(repo, other.id, attempt, now) is Refusal.STALE
        assert await service.pause(repo, other.id, attempt) is Refusal.STALE
        assert await service.go_back(repo, other.id, attempt, code) is Refusal.STALE

        # nothing before the first statement while nothing is answered
        assert await service.go_back(repo, sample.user_id, attempt, code) is None
        second = await service.answer(repo, sample.user_id, attempt, code, 3, now)
        assert isinstance(second, Question) and second.statement == first.statements[1]
        assert second.answers == {code: 3}
        # Back from the second statement shows the first with its answer
        back = await service.go_back(repo, sample.user_id, attempt, second.statement.code)
        assert isinstance(back, Question) and back.statement.code == code
        assert back.answers[code] == 3
        assert await service.go_back(repo, sample.user_id, attempt, "nope") is Refusal.STALE
        await service.answer(repo, sample.user_id, attempt, second.statement.code, 2, now)
        assert await service.pause(repo, sample.user_id, attempt) is None
        await session.commit()

    async with sessionmaker() as session:  # later, "on another device"
        repo = Repo(session)
        assert await service.begin(repo, sample.user_id, now) == service.Resume(
            attempt, answered=2, total=44
        )
        resumed = await service.resume(repo, sample.user_id, attempt, now)
        assert isinstance(resumed, Question) and resumed.statement == resumed.statements[2]

        restarted = await service.restart(repo, sample.user_id, attempt, now)
        assert isinstance(restarted, Question)
        # the old attempt's answers are gone; a new attempt starts from the first statement
        assert restarted.answers == {} and restarted.statement == restarted.statements[0]
        assert await repo.assessments.answers(restarted.attempt_id) == {}
        assert await service.begin(repo, sample.user_id, now) == service.Resume(
            restarted.attempt_id, answered=0, total=44
        )
        await session.commit()


async def test_finishing_scores_stores_audits_and_holds_the_retake_date(
    sessionmaker: Maker,
) -> None:
    sample = await sample_teacher(sessionmaker)
    async with sessionmaker() as session:
        repo = Repo(session)
        assert await service.results(repo, sample.user_id) is Refusal.NO_RESULTS
        done = await answer_all(repo, sample.user_id, now=AWAY)
        assert isinstance(done, Finished) and done.answered == 44 and done.previous is None
        assert done.result.deficits == (WEAK,)
        assert done.result.score_of(WEAK).score == 0
        assert "assessment_finished" in await _actions(repo)
        await session.commit()

    async with sessionmaker() as session:
        repo = Repo(session)
        (attempt,) = await repo.assessments.finished(sample.user_id)
        # stamped with the caller's moment, not the wall clock's
        assert (attempt.started_at, attempt.finished_at) == (AWAY, AWAY)
        answered = set(
            await session.scalars(select(Answer.answered_at).where(Answer.attempt_id == attempt.id))
        )
        assert answered == {AWAY}
        # a finished attempt takes no more answers
        assert await service.resume(repo, sample.user_id, attempt.id, AWAY) is Refusal.STALE
        # the retake date counts from the finish
        retake = timedelta(days=(await framework(repo)).settings.retake_days)
        too_soon = await service.begin(repo, sample.user_id, AWAY)
        assert too_soon == service.TooSoon(AWAY + retake)
        last_minute = AWAY + retake - timedelta(minutes=1)
        assert await service.begin(repo, sample.user_id, last_minute) == too_soon
        later = AWAY + retake + timedelta(days=1)
        assert isinstance(await service.begin(repo, sample.user_id, later), service.Intro)

        found = await service.results(repo, sample.user_id)
        assert isinstance(found, service.Results)
        assert found.latest == done.result and found.previous is None
        assert [h.result for h in found.history] == [done.result]

        # a second attempt: "before / after" against the first
        second = await answer_all(repo, sample.user_id, weak="digital", now=later)
        assert second.previous == done.result
        found = await service.results(repo, sample.user_id)
        assert isinstance(found, service.Results)
        assert (found.latest, found.previous) == (second.result, done.result)
        assert len(found.history) == 2
        await session.commit()


async def test_volunteering_to_mentor_is_stored_and_audited(sessionmaker: Maker) -> None:
    sample = await sample_teacher(sessionmaker)
    async with sessionmaker() as session:
        repo = Repo(session)
        await service.volunteer_to_mentor(repo, sample.user_id)
        await session.commit()
    async with sessionmaker() as session:
        repo = Repo(session)
        assert (await repo.users.require(sample.user_id)).mentor_volunteer
        assert (await _actions(repo))[-1] == "mentor_volunteer"
