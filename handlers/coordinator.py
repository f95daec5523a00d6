"""Coordinators (methodists): check the schools teachers typed in. Scoped to their municipality."""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from db.models import RouteStep, User
from db.repo import Repo
from domain.assessment import AssessmentResult
from domain.roles import Role
from domain.typography import shorten
from handlers.assessment import results_text
from handlers.common import MENU_STAFF, button, h, notify_user
from handlers.filters import RoleFilter
from handlers.route import overview_text

SCHOOLS_SHOWN = 10
log = logging.getLogger(__name__)


class VerifySchoolCb(CallbackData, prefix="vs"):
    school_id: int


def _scope(staff: User, role: Role) -> int | None:
    """Admins see every municipality; a coordinator only their own."""
    return None if role is Role.ADMIN else staff.municipality_id


async def cmd_schools(message: Message, repo: Repo, staff: User, role: Role) -> None:
    if role is not Role.ADMIN and staff.municipality_id is None:
        await message.answer(
            _("Set your municipality in /profile first: you will see its schools.")
        )
        return
    schools = await repo.reference.unverified_schools(_scope(staff, role))
    if not schools:
        await message.answer(_("✅ No schools are waiting for a check."))
        return
    await message.answer(
        _(
            "🏫 <b>Schools typed in by teachers</b> ({n}). Verified schools appear in everyone's list."
        ).format(n=len(schools))
    )
    for school in schools[:SCHOOLS_SHOWN]:
        await message.answer(
            f"<b>{h(school.name)}</b>\n{h(school.municipality.name_ru)}",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[button(_("✅ Verify"), VerifySchoolCb(school_id=school.id))]]
            ),
        )


async def verify_school(
    query: CallbackQuery, callback_data: VerifySchoolCb, repo: Repo, staff: User, role: Role
) -> None:
    school = await repo.reference.school(callback_data.school_id)
    scope = _scope(staff, role)
    if school is None or (scope is not None and school.municipality_id != scope):
        await query.answer(_("You cannot change this school."), show_alert=True)
        return
    if school.verified:
        await query.answer(_("Already verified."))
        return
    await repo.reference.verify_school(school)
    await repo.audit.record("school_verified", actor=staff, school_id=school.id)
    assert isinstance(query.message, Message)
    await query.message.edit_text(
        _("✅ Verified: {name}").format(name=h(school.name)), reply_markup=None
    )
    await query.answer()


# ------------------------------------------------------------------ teachers, results, routes


class TeacherCb(CallbackData, prefix="tc"):
    action: str  # comment | step | file
    user_id: int
    step: int = 0


class CoordinatorForm(StatesGroup):
    comment = State()
    step_title = State()
    step_date = State()


async def _teacher_in_scope(repo: Repo, staff: User, role: Role, user_id: int) -> User | None:
    teacher = await repo.users.get_full(user_id)
    if teacher is None or teacher.telegram_id is None:
        return None
    scope = _scope(staff, role)
    if scope is not None and teacher.municipality_id != scope:
        return None
    return teacher


async def cmd_teachers(message: Message, repo: Repo, staff: User, role: Role) -> None:
    if role is not Role.ADMIN and staff.municipality_id is None:
        await message.answer(
            _("Set your municipality in /profile first: you will see its schools.")
        )
        return
    teachers = await repo.users.teachers_of(_scope(staff, role))
    if not teachers:
        await message.answer(_("No registered teachers yet."))
        return
    ids = [t.id for t in teachers]
    diagnosed = await repo.assessments.diagnosed(ids)
    progress = await repo.routes.progress_of(ids)
    lines = [
        _("👩‍🏫 <b>Teachers</b> ({n}) · 📝 self-assessment · 🧭 route · 🤝 ready to mentor").format(
            n=len(teachers)
        )
    ]
    for t in teachers:
        marks = []
        if t.id in diagnosed:
            marks.append("📝")
        if t.id in progress:
            closed, total = progress[t.id]
            marks.append(f"🧭 {closed}/{total}")
        if t.mentor_volunteer:
            marks.append("🤝")
        lines.append(f"<code>{t.telegram_id}</code> {h(t.full_name or '—')} {' '.join(marks)}")
    lines.append(_("Details: /teacher &lt;telegram id&gt;"))
    await message.answer("\n".join(lines))


async def cmd_teacher(
    message: Message, command: CommandObject, repo: Repo, staff: User, role: Role
) -> None:
    arg = (command.args or "").strip()
    row = await repo.users.by_telegram_id(int(arg)) if arg.isdigit() else None
    teacher = await _teacher_in_scope(repo, staff, role, row.id) if row else None
    if teacher is None:
        await message.answer(
            _("No teacher with this Telegram id in your municipality. Send /teachers for the list.")
        )
        return
    lang = staff.language
    lines = [
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
        lines.append(_("🤝 Ready to mentor or give a master-class"))
    finished = [a for a in await repo.assessments.finished(teacher.id) if a.result]
    if finished and finished[-1].result:
        result = AssessmentResult.from_json(finished[-1].result)
        framework = await repo.frameworks.get(result.framework_version)
        if framework is not None:
            lines += ["", results_text(framework, result, lang)]
    else:
        lines += ["", _("No self-assessment yet.")]
    await message.answer("\n".join(lines)[:4000])
    route = await repo.routes.active(teacher.id)
    buttons = [[button(_("💬 Comment"), TeacherCb(action="comment", user_id=teacher.id))]]
    if route is None:
        await message.answer(
            _("No route yet."), reply_markup=InlineKeyboardMarkup(inline_keyboard=buttons)
        )
        return
    text = overview_text(route, lang)
    evidence = [s for s in route.steps if s.evidence_text or s.evidence_file_id or s.reflection]
    if evidence:
        text += "\n\n" + _("<b>Evidence</b>")
        for s in evidence:
            text += f"\n✅ {h(s.content['title']['en' if lang == 'en' else 'ru'])}: {h(s.evidence_text or s.evidence_file_name or '')}"
            if s.reflection:
                text += f" — <i>{h(s.reflection)}</i>"
    comments = await repo.routes.comments(route.id)
    if comments:
        text += "\n\n" + _("<b>Comments</b>") + "".join(f"\n💬 {h(c.text)}" for c in comments[-5:])
    buttons[0].append(button(_("➕ Add a step"), TeacherCb(action="step", user_id=teacher.id)))
    for s in evidence:
        if s.evidence_file_id:
            buttons.append(
                [
                    button(
                        "📎 " + shorten(s.evidence_file_name or _("file"), 40),
                        TeacherCb(action="file", user_id=teacher.id, step=s.id),
                    )
                ]
            )
    await message.answer(text[:4000], reply_markup=InlineKeyboardMarkup(inline_keyboard=buttons))


async def on_teacher_action(
    query: CallbackQuery,
    callback_data: TeacherCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    bot: Bot,
) -> None:
    teacher = await _teacher_in_scope(repo, staff, role, callback_data.user_id)
    if teacher is None:
        await query.answer(_("You cannot change this teacher's route."), show_alert=True)
        return
    await query.answer()
    assert query.message is not None
    if callback_data.action == "file":
        step = await repo.routes.step(callback_data.step)
        if step is None or step.route.user_id != teacher.id or not step.evidence_file_id:
            return
        await bot.send_document(
            query.message.chat.id, step.evidence_file_id, caption=h(step.evidence_file_name or "")
        )
        return
    if callback_data.action == "step" and await repo.routes.active(teacher.id) is None:
        await bot.send_message(query.message.chat.id, _("No route yet."))
        return
    await state.set_data({"teacher": teacher.id})
    if callback_data.action == "comment":
        await state.set_state(CoordinatorForm.comment)
        await bot.send_message(
            query.message.chat.id,
            _("Type your comment for {name} (up to 500 characters):").format(
                name=h(teacher.full_name or "")
            ),
        )
    else:
        await state.set_state(CoordinatorForm.step_title)
        await bot.send_message(
            query.message.chat.id,
            _("What should the teacher do? Type the step (up to 60 characters):"),
        )


async def got_comment(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, bot: Bot, i18n: I18n
) -> None:
    text = (message.text or "").strip()
    if not text or len(text) > 500:
        await message.answer(_("Please send a text of up to 500 characters."))
        return
    teacher = await _teacher_in_scope(
        repo, staff, role, int((await state.get_data()).get("teacher", 0))
    )
    await state.clear()
    if teacher is None:
        await message.answer(_("You cannot change this teacher's route."))
        return
    route = await repo.routes.active(teacher.id)
    if route is not None:
        await repo.routes.add_comment(route.id, staff.id, text)
    await repo.audit.record("route_comment", actor=staff, target=teacher)
    await notify_user(
        bot,
        i18n,
        teacher,
        lambda: _("💬 A methodist commented on your route:\n\n{text}").format(text=h(text)),
    )
    await message.answer(_("Sent. The teacher has been notified."))


async def got_step_title(message: Message, state: FSMContext) -> None:
    text = (message.text or "").strip()
    if not text or len(text) > 60:
        await message.answer(_("Please send the step as text, up to 60 characters."))
        return
    await state.update_data(title=text)
    await state.set_state(CoordinatorForm.step_date)
    await message.answer(_("By what date? Send it as DD.MM.YYYY."))


async def got_step_date(
    message: Message,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
) -> None:
    try:
        due = datetime.strptime((message.text or "").strip(), "%d.%m.%Y").date()
    except ValueError:
        await message.answer(_("Please send the date as DD.MM.YYYY, e.g. 25.12.2026."))
        return
    if due < datetime.now(settings.tz).date():
        await message.answer(_("This date has passed. Please send a future date."))
        return
    data = await state.get_data()
    teacher = await _teacher_in_scope(repo, staff, role, int(data.get("teacher", 0)))
    route = await repo.routes.active(teacher.id) if teacher else None
    await state.clear()
    if teacher is None or route is None:
        await message.answer(_("You cannot change this teacher's route."))
        return
    title = str(data.get("title", ""))
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
    await notify_user(
        bot,
        i18n,
        teacher,
        lambda: _("➕ A methodist added a step to your route: {title}. See /route").format(
            title=h(title)
        ),
    )
    await message.answer(_("Added. The teacher has been notified."))


def make_router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name="coordinator")
    router.message.filter(RoleFilter(Role.COORDINATOR))
    router.callback_query.filter(RoleFilter(Role.COORDINATOR))
    router.message.register(cmd_schools, Command("schools"))
    router.message.register(cmd_schools, F.text == MENU_STAFF)
    router.callback_query.register(verify_school, VerifySchoolCb.filter())
    router.message.register(cmd_teachers, Command("teachers"))
    router.message.register(cmd_teacher, Command("teacher"))
    router.callback_query.register(on_teacher_action, TeacherCb.filter())
    router.message.register(got_comment, CoordinatorForm.comment)
    router.message.register(got_step_title, CoordinatorForm.step_title)
    router.message.register(got_step_date, CoordinatorForm.step_date)
    return router
