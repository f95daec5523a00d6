"""/teacher: one teacher's profile, results and route, evidence files and past routes."""

from __future__ import annotations

from datetime import tzinfo

from aiogram import Bot
from aiogram.filters import CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from db.models import RouteStep, User
from db.repo import Repo
from domain.ids import parse_id
from domain.roles import Role
from domain.typography import shorten
from handlers.assessment import results_text
from handlers.common import show
from handlers.coordinator.common import CoordinatorForm, _cancel_markup
from handlers.formatting import send_long
from handlers.route import overview_text, past_list_text, route_blocks
from services import route as service
from services.route import Refusal
from ui.callbacks.coordinator import TeacherAction, TeacherCb
from ui.diagnosis import diagnosis_text
from ui.formatting import h
from ui.keyboards.common import button


async def cmd_teacher(
    message: Message, command: CommandObject, repo: Repo, staff: User, role: Role, bot: Bot
) -> None:
    telegram_id = parse_id(command.args)
    if telegram_id is None:
        await message.answer(
            _(
                "Send the teacher's Telegram id in digits after the command, e.g. "
                "<code>/teacher 123456789</code>. The ids are in /teachers."
            )
        )
        return
    card = await service.teacher_card(repo, staff, role, telegram_id)
    if isinstance(card, Refusal):
        await message.answer(
            _("No teacher with this Telegram id in your municipality. Send /teachers for the list.")
        )
        return
    teacher = card.teacher
    lang = staff.language
    blocks = [
        _("👤 <b>Teacher's profile</b>"),
        f"👩‍🏫 <b>{h(teacher.full_name or '—')}</b> · <code>{teacher.telegram_id}</code>",
        " · ".join(
            h(x)
            for x in (
                teacher.school.name if teacher.school else "—",
                teacher.position.name(lang) if teacher.position else "—",
            )
        ),
    ]
    if teacher.mentor_volunteer:
        blocks.append(_("🤝 Ready to mentor or give a master-class"))
    if card.result is not None:
        if card.framework is not None:
            blocks += ["", *results_text(card.framework, card.result, lang, own=False).split("\n")]
    else:
        blocks += ["", _("No self-assessment yet.")]
    external = await repo.diagnoses.latest(teacher.id)
    if external is not None:
        framework = card.framework or await repo.frameworks.active()
        blocks += ["", diagnosis_text(external, framework, lang)]
    await send_long(bot, message.chat.id, blocks)
    route = card.route
    buttons = [
        [button(_("💬 Comment"), TeacherCb(action=TeacherAction.COMMENT, user_id=teacher.id))]
    ]
    if card.past:
        buttons.append(
            [
                button(
                    _("🗂 Past routes ({n})").format(n=card.past),
                    TeacherCb(action=TeacherAction.PAST, user_id=teacher.id),
                )
            ]
        )
    if route is None:
        await message.answer(
            _("No route yet."), reply_markup=InlineKeyboardMarkup(inline_keyboard=buttons)
        )
        return
    blocks = overview_text(route, lang, own=False).split("\n")
    evidence = [s for s in route.steps if s.evidence_text or s.evidence_file_id or s.reflection]
    if evidence:
        blocks += ["", _("<b>Evidence</b>")]
        for s in evidence:
            line = f"✅ {h(s.content['title']['en' if lang == 'en' else 'ru'])}: {h(s.evidence_text or s.evidence_file_name or '')}"
            if s.reflection:
                line += f" — <i>{h(s.reflection)}</i>"
            blocks.append(line)
    if card.comments:
        blocks += ["", _("<b>Comments</b>"), *(f"💬 {h(c.text)}" for c in card.comments[-5:])]
    buttons[0].append(
        button(_("➕ Add a step"), TeacherCb(action=TeacherAction.STEP, user_id=teacher.id))
    )
    buttons += _file_buttons(teacher.id, evidence)
    await send_long(bot, message.chat.id, blocks, InlineKeyboardMarkup(inline_keyboard=buttons))


def _file_buttons(teacher_id: int, steps: list[RouteStep]) -> list[list[InlineKeyboardButton]]:
    return [
        [
            button(
                "📎 " + shorten(s.evidence_file_name or _("file"), 40),
                TeacherCb(action=TeacherAction.FILE, user_id=teacher_id, step=s.id),
            )
        ]
        for s in steps
        if s.evidence_file_id
    ]


async def on_teacher_action(
    query: CallbackQuery,
    callback_data: TeacherCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    bot: Bot,
    tz: tzinfo,
) -> None:
    if callback_data.action == TeacherAction.CANCEL:
        await state.clear()
        await show(query, _("Cancelled."))
        return
    teacher = await service.teacher_in_scope(repo, staff, role, callback_data.user_id)
    if isinstance(teacher, Refusal):
        await query.answer(_("You cannot change this teacher's route."), show_alert=True)
        return
    assert query.message is not None
    if callback_data.action in {TeacherAction.PAST, TeacherAction.ARCH}:
        await _show_past(query, callback_data, repo, staff, teacher, tz)
        return
    await query.answer()
    if callback_data.action == TeacherAction.FILE:
        step = await service.evidence_file(repo, teacher.id, callback_data.step)
        if step is None or step.evidence_file_id is None:
            return
        await bot.send_document(
            query.message.chat.id, step.evidence_file_id, caption=h(step.evidence_file_name or "")
        )
        return
    if callback_data.action == TeacherAction.STEP and await repo.routes.active(teacher.id) is None:
        await bot.send_message(query.message.chat.id, _("No route yet."))
        return
    if callback_data.action not in {TeacherAction.COMMENT, TeacherAction.STEP}:
        return
    await state.set_data({"teacher": teacher.id})
    if callback_data.action == TeacherAction.COMMENT:
        await state.set_state(CoordinatorForm.comment)
        await bot.send_message(
            query.message.chat.id,
            _("Type your comment for {name} (up to 500 characters):").format(
                name=h(teacher.full_name or "")
            ),
            reply_markup=_cancel_markup(teacher.id),
        )
    else:
        await state.set_state(CoordinatorForm.step_title)
        await bot.send_message(
            query.message.chat.id,
            _("What should the teacher do? Type the step (up to 60 characters):"),
            reply_markup=_cancel_markup(teacher.id),
        )


async def _show_past(
    query: CallbackQuery,
    callback_data: TeacherCb,
    repo: Repo,
    staff: User,
    teacher: User,
    tz: tzinfo,
) -> None:
    """The teacher's earlier routes, read-only: the list, or one route with its evidence."""
    lang = staff.language
    if callback_data.action == TeacherAction.PAST:
        found = await service.past_routes(repo, teacher.id)
        if isinstance(found, Refusal):
            await query.answer(_("No earlier routes."), show_alert=True)
            return
        text, items = past_list_text(list(found.routes), tz)
        buttons = [
            [button(label, TeacherCb(action=TeacherAction.ARCH, user_id=teacher.id, step=route_id))]
            for label, route_id in items
        ]
        await query.answer()
        assert query.message is not None and query.bot is not None
        await query.bot.send_message(
            query.message.chat.id,
            f"👩‍🏫 <b>{h(teacher.full_name or '—')}</b>\n{text}",
            reply_markup=InlineKeyboardMarkup(inline_keyboard=buttons),
        )
        return
    one = await service.past_route(repo, teacher.id, callback_data.step)
    if isinstance(one, Refusal):
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    route = one.route
    buttons = [
        [button(_("⬅️ Past routes"), TeacherCb(action=TeacherAction.PAST, user_id=teacher.id))]
    ]
    buttons += _file_buttons(teacher.id, route.steps)
    await query.answer()
    assert query.message is not None and query.bot is not None
    await send_long(
        query.bot,
        query.message.chat.id,
        [f"👩‍🏫 <b>{h(teacher.full_name or '—')}</b>", *route_blocks(route, lang, tz)],
        InlineKeyboardMarkup(inline_keyboard=buttons),
    )
