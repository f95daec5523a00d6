"""The quiz: the intro (/assess), one statement per message, answers, Back and Pause, resuming
a paused attempt, and the finish that stores the score and sends the results."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from core.clock import Clock
from core.settings import Settings
from core.usercache import UserContext
from db.models import Attempt, User
from db.repo import Repo
from domain.assessment import AssessmentResult, next_attempt_at, previous_statement, progress, score
from domain.framework import Framework, Statement
from handlers.assessment.callbacks import AnswerCb, AssessCb
from handlers.assessment.results import send_results
from handlers.common import button, h, show

SECONDS_PER_STATEMENT = 15


def _minutes(count: int) -> int:
    return max(1, round(count * SECONDS_PER_STATEMENT / 60))


async def _framework_for(repo: Repo, attempt: Attempt | None = None) -> Framework:
    framework = await (
        repo.frameworks.get(attempt.framework_version) if attempt else repo.frameworks.active()
    )
    if framework is None:
        raise RuntimeError("no competency framework has been imported")
    return framework


async def _is_manager(repo: Repo, user: User) -> bool:
    position = await repo.reference.position(user.position_code) if user.position_code else None
    return bool(position and position.is_manager)


def _statement_text(
    framework: Framework, attempt: Attempt, statement: Statement, answers: dict[str, int], lang: str
) -> tuple[str, InlineKeyboardMarkup]:
    statements = framework.statements(attempt.is_manager)
    comp = framework.competency(statement.competency)
    same = [s for s in statements if s.competency == statement.competency]
    index = statements.index(statement) + 1
    text = (
        f"📝 {index} / {len(statements)} · {h(comp.title.text(lang))} "
        f"({same.index(statement) + 1} / {len(same)})\n\n"
        f"<b>{h(statement.text.text(lang))}</b>"
    )
    current = answers.get(statement.code)
    rows = [
        [
            button(
                ("✓ " if current == value else "") + label.text(lang),
                AnswerCb(attempt=attempt.id, code=statement.code, value=value),
            )
        ]
        for value, label in enumerate(framework.scale)
    ]
    nav = []
    if statements.index(statement) > 0:
        nav.append(
            button(_("⬅️ Back"), AssessCb(action="back", attempt=attempt.id, code=statement.code))
        )
    nav.append(button(_("⏸ Pause"), AssessCb(action="pause", attempt=attempt.id)))
    rows.append(nav)
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def _ask_next(
    event: Message | CallbackQuery,
    repo: Repo,
    user: User,
    attempt: Attempt,
    settings: Settings,
    bot: Bot,
) -> None:
    framework = await _framework_for(repo, attempt)
    answers = await repo.assessments.answers(attempt.id)
    statements = framework.statements(attempt.is_manager)
    current = progress(statements, answers).next
    if current is None:
        await _finish(event, repo, user, attempt, framework, answers, settings, bot)
        return
    text, markup = _statement_text(framework, attempt, current, answers, user.language)
    await show(event, text, markup)


async def _finish(
    event: Message | CallbackQuery,
    repo: Repo,
    user: User,
    attempt: Attempt,
    framework: Framework,
    answers: dict[str, int],
    settings: Settings,
    bot: Bot,
) -> None:
    result = score(framework, answers, is_manager=attempt.is_manager)
    await repo.assessments.finish(attempt, result.to_json())
    await repo.audit.record(
        "assessment_finished", actor=user, attempt_id=attempt.id, version=framework.version
    )
    await show(
        event,
        _("✅ Done! Thank you: all {n} statements answered. Here is your profile.").format(
            n=len(answers)
        ),
    )
    earlier = [a for a in await repo.assessments.finished(user.id) if a.id != attempt.id]
    previous = (
        AssessmentResult.from_json(earlier[-1].result) if earlier and earlier[-1].result else None
    )
    chat_id = event.chat.id if isinstance(event, Message) else event.message.chat.id  # type: ignore[union-attr]
    await send_results(bot, chat_id, user, framework, result, previous)


async def cmd_assess(
    message: Message, repo: Repo, user: UserContext, settings: Settings, bot: Bot, clock: Clock
) -> None:
    db_user = await repo.users.require(user.id)
    open_attempt = await repo.assessments.open_attempt(user.id)
    if open_attempt is not None:
        framework = await _framework_for(repo, open_attempt)
        statements = framework.statements(open_attempt.is_manager)
        done = progress(statements, await repo.assessments.answers(open_attempt.id))
        await message.answer(
            _(
                "You have answered {answered} of {total} statements. Continue where you stopped?"
            ).format(answered=done.answered, total=done.total),
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [button(_("▶️ Continue"), AssessCb(action="continue", attempt=open_attempt.id))],
                    [
                        button(
                            _("🔄 Start over"), AssessCb(action="restart", attempt=open_attempt.id)
                        )
                    ],
                ]
            ),
        )
        return
    framework = await _framework_for(repo)
    finished = await repo.assessments.finished(user.id)
    if finished:
        allowed_at = next_attempt_at(finished[-1].finished_at, framework.settings.retake_days)
        if allowed_at is not None and allowed_at > clock.now():
            await message.answer(
                _(
                    "Your last self-assessment is recent. A new one is possible from {date}. Your results: /results"
                ).format(date=allowed_at.astimezone(settings.tz).strftime("%d.%m.%Y"))
            )
            return
    count = len(framework.statements(await _is_manager(repo, db_user)))
    lang = db_user.language
    text = (
        f"📝 <b>{h(framework.title.text(lang))}</b>\n\n{h(framework.intro.text(lang))}\n\n"
        + ngettext(
            "{n} statement, about {minutes} min.",
            "{n} statements, about {minutes} min.",
            count,
        ).format(n=count, minutes=_minutes(count))
        + "\n"
        + _("Answer about your practice as it is now; you can pause at any moment.")
    )
    await message.answer(
        text,
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[button(_("▶️ Start"), AssessCb(action="start"))]]
        ),
    )


async def _own_open_attempt(
    query: CallbackQuery, repo: Repo, user: UserContext, attempt_id: int
) -> Attempt | None:
    attempt = await repo.assessments.get(attempt_id)
    if attempt is None or attempt.user_id != user.id or attempt.finished_at is not None:
        await query.answer(_("This button is out of date."), show_alert=True)
        return None
    return attempt


async def on_start(
    query: CallbackQuery,
    callback_data: AssessCb,
    repo: Repo,
    user: UserContext,
    settings: Settings,
    bot: Bot,
) -> None:
    db_user = await repo.users.require(user.id)
    if callback_data.action == "restart":
        old = await _own_open_attempt(query, repo, user, callback_data.attempt)
        if old is None:
            return
        await repo.assessments.discard(old)
    attempt = await repo.assessments.open_attempt(user.id)
    if attempt is None:
        framework = await _framework_for(repo)
        attempt = await repo.assessments.start(
            user.id, framework.version, await _is_manager(repo, db_user)
        )
    await _ask_next(query, repo, db_user, attempt, settings, bot)


async def on_continue(
    query: CallbackQuery,
    callback_data: AssessCb,
    repo: Repo,
    user: UserContext,
    settings: Settings,
    bot: Bot,
) -> None:
    attempt = await _own_open_attempt(query, repo, user, callback_data.attempt)
    if attempt is None:
        return
    db_user = await repo.users.require(user.id)
    await _ask_next(query, repo, db_user, attempt, settings, bot)


async def on_answer(
    query: CallbackQuery,
    callback_data: AnswerCb,
    repo: Repo,
    user: UserContext,
    settings: Settings,
    bot: Bot,
) -> None:
    attempt = await _own_open_attempt(query, repo, user, callback_data.attempt)
    if attempt is None:
        return
    framework = await _framework_for(repo, attempt)
    codes = {s.code for s in framework.statements(attempt.is_manager)}
    if callback_data.code not in codes or not 0 <= callback_data.value < len(framework.scale):
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    await repo.assessments.set_answer(attempt.id, callback_data.code, callback_data.value)
    db_user = await repo.users.require(user.id)
    await _ask_next(query, repo, db_user, attempt, settings, bot)


async def on_back(
    query: CallbackQuery, callback_data: AssessCb, repo: Repo, user: UserContext
) -> None:
    attempt = await _own_open_attempt(query, repo, user, callback_data.attempt)
    if attempt is None:
        return
    framework = await _framework_for(repo, attempt)
    statements = framework.statements(attempt.is_manager)
    answers = await repo.assessments.answers(attempt.id)
    shown = next((s for s in statements if s.code == callback_data.code), None)
    if shown is None:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    index = statements.index(shown)
    target = statements[index - 1] if index > 0 else previous_statement(statements, answers)
    if target is None:
        await query.answer()
        return
    db_user = await repo.users.require(user.id)
    text, markup = _statement_text(framework, attempt, target, answers, db_user.language)
    await show(query, text, markup)


async def on_pause(
    query: CallbackQuery, callback_data: AssessCb, repo: Repo, user: UserContext
) -> None:
    attempt = await _own_open_attempt(query, repo, user, callback_data.attempt)
    if attempt is None:
        return
    await show(
        query, _("⏸ Paused. Your answers are saved: send /assess to continue, from any device.")
    )
