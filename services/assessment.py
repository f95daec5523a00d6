"""Self-assessment use cases: the intro, starting or restarting an attempt, answering, Back,
Pause, finishing (the score is stored and audited), the results and the mentor offer.

Each function runs in the caller's unit of work (`db.repo.Repo`) and never commits; nothing
here talks to Telegram. A tap that no longer fits (someone else's attempt, a finished one, an
unknown statement or value) is refused with `Refusal.STALE`, which the handler turns into
"this button is out of date". Scoring and progress are `domain.assessment`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from db.models import Attempt, User
from db.repo import Repo
from domain.assessment import AssessmentResult, next_attempt_at, previous_statement, progress, score
from domain.framework import Framework, Statement
from services.nudges import plan_assessment

__all__ = [
    "Finished",
    "History",
    "Intro",
    "Question",
    "Refusal",
    "Results",
    "Resume",
    "Step",
    "TooSoon",
    "answer",
    "begin",
    "go_back",
    "pause",
    "restart",
    "results",
    "resume",
    "start",
    "volunteer_to_mentor",
]


class Refusal(StrEnum):
    #: the button does not fit any more: not the user's open attempt, an unknown statement/value
    STALE = "stale"
    #: no finished self-assessment yet
    NO_RESULTS = "no_results"


@dataclass(frozen=True, slots=True)
class Resume:
    """An unfinished attempt is waiting: offer to continue it or start over."""

    attempt_id: int
    answered: int
    total: int


@dataclass(frozen=True, slots=True)
class TooSoon:
    """The last self-assessment is recent: a new one is possible from `allowed_at`."""

    allowed_at: datetime


@dataclass(frozen=True, slots=True)
class Intro:
    """A new attempt may start: the framework and how many statements the user will see."""

    framework: Framework
    statements: int


@dataclass(frozen=True, slots=True)
class Question:
    """The statement to show, with the answers given so far."""

    framework: Framework
    attempt_id: int
    is_manager: bool
    statement: Statement
    answers: Mapping[str, int]

    @property
    def statements(self) -> tuple[Statement, ...]:
        return tuple(self.framework.statements(self.is_manager))


@dataclass(frozen=True, slots=True)
class Finished:
    """Every statement is answered: the attempt is scored and stored."""

    user: User
    framework: Framework
    result: AssessmentResult
    #: the result of the attempt before this one, for "before / after"
    previous: AssessmentResult | None
    answered: int


Step = Question | Finished


@dataclass(frozen=True, slots=True)
class History:
    finished_at: datetime
    result: AssessmentResult


@dataclass(frozen=True, slots=True)
class Results:
    user: User
    framework: Framework
    latest: AssessmentResult
    previous: AssessmentResult | None
    #: every finished attempt, oldest first
    history: tuple[History, ...]


async def _framework(repo: Repo, attempt: Attempt | None = None) -> Framework:
    framework = await (
        repo.frameworks.get(attempt.framework_version) if attempt else repo.frameworks.active()
    )
    if framework is None:
        raise RuntimeError("no competency framework has been imported")
    return framework


async def _is_manager(repo: Repo, user: User) -> bool:
    position = await repo.reference.position(user.position_code) if user.position_code else None
    return bool(position and position.is_manager)


async def _own_open(repo: Repo, user_id: int, attempt_id: int) -> Attempt | None:
    attempt = await repo.assessments.get(attempt_id)
    if attempt is None or attempt.user_id != user_id or attempt.finished_at is not None:
        return None
    return attempt


async def _results(repo: Repo, user_id: int) -> list[tuple[Attempt, AssessmentResult]]:
    return [
        (a, AssessmentResult.from_json(a.result))
        for a in await repo.assessments.finished(user_id)
        if a.result
    ]


async def _next(
    repo: Repo,
    user_id: int,
    attempt: Attempt,
    now: datetime,
    answers: dict[str, int] | None = None,
) -> Step:
    """The first unanswered statement, or, with none left, the finish: score, store, audit.
    `answers`: the attempt's answers, when the caller has just read them."""
    framework = await _framework(repo, attempt)
    if answers is None:
        answers = await repo.assessments.answers(attempt.id)
    current = progress(framework.statements(attempt.is_manager), answers).next
    if current is not None:
        return Question(framework, attempt.id, attempt.is_manager, current, answers)
    user = await repo.users.require(user_id)
    result = score(framework, answers, is_manager=attempt.is_manager)
    await repo.assessments.finish(attempt, result.to_json(), now)
    await repo.audit.record(
        "assessment_finished", actor=user, attempt_id=attempt.id, version=framework.version
    )
    await plan_assessment(repo, user_id, now)
    earlier = [a for a in await repo.assessments.finished(user_id) if a.id != attempt.id]
    previous = (
        AssessmentResult.from_json(earlier[-1].result) if earlier and earlier[-1].result else None
    )
    return Finished(user, framework, result, previous, len(answers))


async def begin(repo: Repo, user_id: int, now: datetime) -> Resume | TooSoon | Intro:
    """/assess: continue an unfinished attempt, wait for the retake date, or the intro."""
    open_attempt = await repo.assessments.open_attempt(user_id)
    if open_attempt is not None:
        framework = await _framework(repo, open_attempt)
        done = progress(
            framework.statements(open_attempt.is_manager),
            await repo.assessments.answers(open_attempt.id),
        )
        return Resume(open_attempt.id, done.answered, done.total)
    framework = await _framework(repo)
    finished = await repo.assessments.finished(user_id)
    if finished:
        allowed_at = next_attempt_at(finished[-1].finished_at, framework.settings.retake_days)
        if allowed_at is not None and allowed_at > now:
            return TooSoon(allowed_at)
    user = await repo.users.require(user_id)
    return Intro(framework, len(framework.statements(await _is_manager(repo, user))))


async def start(repo: Repo, user_id: int, now: datetime) -> Step:
    """▶️ Start: the open attempt (a double tap never makes two), or a new one."""
    attempt = await repo.assessments.open_attempt(user_id)
    if attempt is None:
        framework = await _framework(repo)
        user = await repo.users.require(user_id)
        attempt = await repo.assessments.start(
            user_id, framework.version, await _is_manager(repo, user), now
        )
        await plan_assessment(repo, user_id, now)
    return await _next(repo, user_id, attempt, now)


async def restart(repo: Repo, user_id: int, attempt_id: int, now: datetime) -> Step | Refusal:
    """🔄 Start over: drop the user's open attempt with its answers, then start."""
    old = await _own_open(repo, user_id, attempt_id)
    if old is None:
        return Refusal.STALE
    await repo.assessments.discard(old)
    return await start(repo, user_id, now)


async def resume(repo: Repo, user_id: int, attempt_id: int, now: datetime) -> Step | Refusal:
    """▶️ Continue: the first unanswered statement of the user's open attempt."""
    attempt = await _own_open(repo, user_id, attempt_id)
    if attempt is None:
        return Refusal.STALE
    return await _next(repo, user_id, attempt, now)


async def answer(
    repo: Repo, user_id: int, attempt_id: int, code: str, value: int, now: datetime
) -> Step | Refusal:
    """Store one answer (a changed answer replaces the earlier one), then the next step:
    the attempt and its answers are read in one statement, the answer stored in another."""
    found = await repo.assessments.open_with_answers(attempt_id)
    if found is None:
        return Refusal.STALE
    attempt, answers = found
    if attempt.user_id != user_id or attempt.finished_at is not None:
        return Refusal.STALE
    framework = await _framework(repo, attempt)
    codes = {s.code for s in framework.statements(attempt.is_manager)}
    if code not in codes or not 0 <= value < len(framework.scale):
        return Refusal.STALE
    await repo.assessments.store_answer(attempt.id, code, value, now, known=code in answers)
    answers[code] = value
    return await _next(repo, user_id, attempt, now, answers)


async def go_back(
    repo: Repo, user_id: int, attempt_id: int, shown_code: str
) -> Question | Refusal | None:
    """⬅️ Back from the statement `shown_code`: the one before it (None: nothing before)."""
    attempt = await _own_open(repo, user_id, attempt_id)
    if attempt is None:
        return Refusal.STALE
    framework = await _framework(repo, attempt)
    statements = framework.statements(attempt.is_manager)
    answers = await repo.assessments.answers(attempt.id)
    shown = next((s for s in statements if s.code == shown_code), None)
    if shown is None:
        return Refusal.STALE
    index = statements.index(shown)
    target = statements[index - 1] if index > 0 else previous_statement(statements, answers)
    if target is None:
        return None
    return Question(framework, attempt.id, attempt.is_manager, target, answers)


async def pause(repo: Repo, user_id: int, attempt_id: int) -> Refusal | None:
    """⏸ Pause: nothing to store (every answer already is); refused if not the open attempt."""
    return None if await _own_open(repo, user_id, attempt_id) is not None else Refusal.STALE


async def results(repo: Repo, user_id: int) -> Results | Refusal:
    """/results: the latest result, the one before it and the history of attempts."""
    done = await _results(repo, user_id)
    if not done:
        return Refusal.NO_RESULTS
    latest = done[-1][1]
    framework = await repo.frameworks.get(latest.framework_version)
    assert framework is not None
    history = []
    for attempt, result in done:
        assert attempt.finished_at is not None
        history.append(History(attempt.finished_at, result))
    return Results(
        user=await repo.users.require(user_id),
        framework=framework,
        latest=latest,
        previous=done[-2][1] if len(done) > 1 else None,
        history=tuple(history),
    )


async def volunteer_to_mentor(repo: Repo, user_id: int) -> None:
    """🤝 Ready to mentor: the flag the methodists see, and an audit record."""
    user = await repo.users.require(user_id)
    await repo.users.set_fields(user, mentor_volunteer=True)
    await repo.audit.record("mentor_volunteer", actor=user)
