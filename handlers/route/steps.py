"""A step's card: what, how, materials, evidence; its status buttons and the upcoming events
that would complete it."""

from __future__ import annotations

from datetime import tzinfo

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from core.clock import Clock
from core.usercache import UserContext
from db.models import RouteStep
from db.repo import Repo
from domain.route import StepStatus
from domain.typography import shorten
from handlers.common import show
from handlers.route.common import (
    STATUS_ICON,
    Evidence,
    stale,
)
from services import route as service
from services.route import EvidenceNeeded, Refusal
from ui.callbacks.events import EvAct, EvAction
from ui.callbacks.route import RouteAction, RouteCb
from ui.formatting import date_text, h
from ui.keyboards.common import button
from ui.texts import step_kind_label, step_status_label


def step_text(step: RouteStep, lang: str) -> str:
    key = "en" if lang == "en" else "ru"
    content = step.content
    lines = [
        f"{STATUS_ICON.get(StepStatus(step.status), '⬜')} <b>{h(content['title'][key])}</b>",
        f"{h(content.get('competency', {}).get(key, step.competency))} · {step_kind_label(step.kind)} · "
        + _("by {date}").format(date=date_text(step.target_date))
        + f" · {step_status_label(step.status)}",
        "",
        _("<b>What and why.</b> {text}").format(text=h(content["what"][key])),
        _("<b>How.</b> {text}").format(text=h(content["how"][key])),
    ]
    resources = content.get("resources") or []
    if resources:
        links = [f'• <a href="{h(r["url"])}">{h(r["title"][key])}</a>' for r in resources]
        lines += ["", _("<b>Materials:</b>"), *links]
    if step.evidence_text or step.evidence_file_name:
        lines += [
            "",
            _("<b>Evidence:</b> {text}").format(
                text=h(step.evidence_text or step.evidence_file_name or "")
            ),
        ]
    if step.reflection:
        lines.append(_("<b>Reflection:</b> {text}").format(text=h(step.reflection)))
    return "\n".join(lines)


def step_keyboard(step: RouteStep) -> InlineKeyboardMarkup:
    status = StepStatus(step.status)
    actions = []
    if status is not StepStatus.IN_PROGRESS and not status.closed:
        actions.append(
            button(
                _("🔄 I'm on it"),
                RouteCb(action=RouteAction.STATUS, step=step.id, status="in_progress"),
            )
        )
    if status is not StepStatus.DONE:
        actions.append(
            button(_("✅ Done"), RouteCb(action=RouteAction.STATUS, step=step.id, status="done"))
        )
    if not status.closed:
        actions.append(
            button(_("⏭ Skip"), RouteCb(action=RouteAction.STATUS, step=step.id, status="skipped"))
        )
    if status.closed:
        actions.append(
            button(
                _("↩️ Reopen"), RouteCb(action=RouteAction.STATUS, step=step.id, status="planned")
            )
        )
    return InlineKeyboardMarkup(
        inline_keyboard=[
            actions,
            [button(_("⬅️ To the route"), RouteCb(action=RouteAction.OVERVIEW))],
        ]
    )


async def on_step(
    query: CallbackQuery,
    callback_data: RouteCb,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
    tz: tzinfo,
    clock: Clock,
) -> None:
    if await state.get_state() in {Evidence.proof.state, Evidence.reflection.state}:
        await state.clear()  # ✖️ Cancel of the evidence prompt: stop waiting for evidence
    card = await service.step_card(repo, user.id, callback_data.step, clock.now())
    if isinstance(card, Refusal):
        await stale(query)
        return
    step = card.step
    text = step_text(step, user.language)
    markup = step_keyboard(step)
    if card.sessions:
        text += "\n\n" + _("<b>Upcoming sessions for this step:</b>")
        for event in card.sessions:
            start = event.starts_at.astimezone(tz)
            markup.inline_keyboard.insert(
                -1,
                [
                    button(
                        shorten(f"📅 {start:%d.%m} · {event.title}", 60),
                        EvAct(action=EvAction.CARD, event=event.id),
                    )
                ],
            )
    await show(query, text, markup)


async def on_status(
    query: CallbackQuery,
    callback_data: RouteCb,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
    bot: Bot,
    clock: Clock,
) -> None:
    changed = await service.change_status(
        repo, user.id, callback_data.step, callback_data.status, clock.now()
    )
    if isinstance(changed, Refusal):
        await stale(query)
        return
    if isinstance(changed, EvidenceNeeded):
        await state.set_state(Evidence.proof)
        await state.set_data({"step": changed.step_id})
        await show(
            query,
            _(
                "✅ Great! Send evidence of this step: a short text, a link or a file (a photo, a document)."
            ),
            InlineKeyboardMarkup(
                inline_keyboard=[
                    [button(_("✖️ Cancel"), RouteCb(action=RouteAction.STEP, step=changed.step_id))]
                ]
            ),
        )
        return
    await show(query, step_text(changed.step, user.language), step_keyboard(changed.step))
    if changed.route_completed:
        assert query.message is not None
        await bot.send_message(query.message.chat.id, route_complete_text())


def route_complete_text() -> str:
    return _(
        "🎉 Your route is complete! Congratulations on the work done. A new self-assessment will show how your profile has changed: /assess"
    )
