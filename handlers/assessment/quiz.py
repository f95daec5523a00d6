"""The quiz: the intro (/assess), one statement per message, answers, Back and Pause, resuming
a paused attempt, and the finish that stores the score and sends the results."""

from __future__ import annotations

from datetime import tzinfo

from aiogram import Bot
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from core.clock import Clock
from core.usercache import UserContext
from db.repo import Repo
from handlers.assessment.results import send_results
from handlers.common import show
from services import assessment as service
from services.assessment import Finished, Question, Refusal, Step
from ui.callbacks.assessment import AnswerCb, AssessAction, AssessCb
from ui.formatting import date_text, h
from ui.keyboards.common import button

SECONDS_PER_STATEMENT = 15


def _minutes(count: int) -> int:
    return max(1, round(count * SECONDS_PER_STATEMENT / 60))


def _statement_text(question: Question, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    framework, statement, answers = question.framework, question.statement, question.answers
    attempt_id = question.attempt_id
    statements = list(question.statements)
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
                AnswerCb(attempt=attempt_id, code=statement.code, value=value),
            )
        ]
        for value, label in enumerate(framework.scale)
    ]
    nav = []
    if statements.index(statement) > 0:
        nav.append(
            button(
                _("⬅️ Back"),
                AssessCb(action=AssessAction.BACK, attempt=attempt_id, code=statement.code),
            )
        )
    nav.append(button(_("⏸ Pause"), AssessCb(action=AssessAction.PAUSE, attempt=attempt_id)))
    rows.append(nav)
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def _show_step(event: Message | CallbackQuery, step: Step, lang: str, bot: Bot) -> None:
    """The next statement, or the finish: thanks, then the results."""
    if isinstance(step, Question):
        text, markup = _statement_text(step, lang)
        await show(event, text, markup)
        return
    await _show_finished(event, step, bot)


async def _show_finished(event: Message | CallbackQuery, done: Finished, bot: Bot) -> None:
    await show(
        event,
        _("✅ Done! Thank you: all {n} statements answered. Here is your profile.").format(
            n=done.answered
        ),
    )
    chat_id = event.chat.id if isinstance(event, Message) else event.message.chat.id  # type: ignore[union-attr]
    await send_results(bot, chat_id, done.user, done.framework, done.result, done.previous)


async def _stale(query: CallbackQuery) -> None:
    await query.answer(_("This button is out of date."), show_alert=True)


async def cmd_assess(
    message: Message, repo: Repo, user: UserContext, tz: tzinfo, clock: Clock
) -> None:
    intro = await service.begin(repo, user.id, clock.now())
    if isinstance(intro, service.Resume):
        await message.answer(
            _(
                "You have answered {answered} of {total} statements. Continue where you stopped?"
            ).format(answered=intro.answered, total=intro.total),
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        button(
                            _("▶️ Continue"),
                            AssessCb(action=AssessAction.CONTINUE, attempt=intro.attempt_id),
                        )
                    ],
                    [
                        button(
                            _("🔄 Start over"),
                            AssessCb(action=AssessAction.RESTART, attempt=intro.attempt_id),
                        )
                    ],
                ]
            ),
        )
        return
    if isinstance(intro, service.TooSoon):
        await message.answer(
            _(
                "Your last self-assessment is recent. A new one is possible from {date}. Your results: /results"
            ).format(date=date_text(intro.allowed_at, tz))
        )
        return
    framework, count = intro.framework, intro.statements
    lang = user.language
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
            inline_keyboard=[[button(_("▶️ Start"), AssessCb(action=AssessAction.START))]]
        ),
    )


async def on_start(
    query: CallbackQuery,
    callback_data: AssessCb,
    repo: Repo,
    user: UserContext,
    bot: Bot,
    clock: Clock,
) -> None:
    step = (
        await service.restart(repo, user.id, callback_data.attempt, clock.now())
        if callback_data.action == AssessAction.RESTART
        else await service.start(repo, user.id, clock.now())
    )
    if isinstance(step, Refusal):
        await _stale(query)
        return
    await _show_step(query, step, user.language, bot)


async def on_continue(
    query: CallbackQuery,
    callback_data: AssessCb,
    repo: Repo,
    user: UserContext,
    bot: Bot,
    clock: Clock,
) -> None:
    step = await service.resume(repo, user.id, callback_data.attempt, clock.now())
    if isinstance(step, Refusal):
        await _stale(query)
        return
    await _show_step(query, step, user.language, bot)


async def on_answer(
    query: CallbackQuery,
    callback_data: AnswerCb,
    repo: Repo,
    user: UserContext,
    bot: Bot,
    clock: Clock,
) -> None:
    step = await service.answer(
        repo, user.id, callback_data.attempt, callback_data.code, callback_data.value, clock.now()
    )
    if isinstance(step, Refusal):
        await _stale(query)
        return
    await _show_step(query, step, user.language, bot)


async def on_back(
    query: CallbackQuery, callback_data: AssessCb, repo: Repo, user: UserContext
) -> None:
    question = await service.go_back(repo, user.id, callback_data.attempt, callback_data.code)
    if isinstance(question, Refusal):
        await _stale(query)
        return
    if question is None:
        await query.answer()
        return
    text, markup = _statement_text(question, user.language)
    await show(query, text, markup)


async def on_pause(
    query: CallbackQuery, callback_data: AssessCb, repo: Repo, user: UserContext
) -> None:
    if await service.pause(repo, user.id, callback_data.attempt) is Refusal.STALE:
        await _stale(query)
        return
    await show(
        query, _("⏸ Paused. Your answers are saved: send /assess to continue, from any device.")
    )
