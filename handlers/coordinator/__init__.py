"""Coordinators (methodists): check the schools teachers typed in. Scoped to their municipality."""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from db.models import RouteStep, School, User
from db.repo import Repo
from domain.assessment import AssessmentResult
from domain.ids import parse_id
from domain.pagination import paginate
from domain.profile import Err, Field, validate_school_name
from domain.roles import Role, staff_scope
from domain.typography import quoted, shorten
from handlers.assessment import results_text
from handlers.common import MENU_STAFF, button, h, notify_user, pager_row, show
from handlers.filters import RoleFilter
from handlers.formatting import send_long, split_html
from handlers.freetext import TypedAnswer
from handlers.profile import EditCb
from handlers.route import overview_text, past_list_text, route_blocks

SCHOOLS_SHOWN = 10
MERGE_TARGETS_PER_PAGE = 8
log = logging.getLogger(__name__)


class VerifySchoolCb(CallbackData, prefix="vs"):
    school_id: int


class SchoolActCb(CallbackData, prefix="sx"):
    """What a methodist does with a typed school. Every id is re-checked on the server."""

    action: str  # rename | merge | into | reject | reject_yes | cancel
    school_id: int
    target: int = 0  # into: the school to merge into
    page: int = 0  # merge: the page of the target list


class SchoolForm(StatesGroup):
    name = State()


def _scope(staff: User, role: Role) -> int | None:
    """Admins see every municipality; a coordinator only their own."""
    return staff_scope(role, staff.acting_municipality_id)


async def cmd_schools(message: Message, repo: Repo, staff: User, role: Role) -> None:
    if role is not Role.ADMIN and staff.acting_municipality_id is None:
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
            await _school_card(repo, school, staff.language),
            reply_markup=_school_keyboard(school.id),
        )


async def _school_card(repo: Repo, school: School, lang: str) -> str:
    municipality = await repo.reference.municipality(school.municipality_id)
    teachers = len(await repo.reference.school_users(school.id))
    return "\n".join(
        [
            f"<b>{h(school.name)}</b>",
            h(municipality.name(lang) if municipality else "—"),
            _("Teachers with this school: {n}").format(n=teachers),
        ]
    )


def _school_keyboard(school_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button(_("✅ Verify"), VerifySchoolCb(school_id=school_id)),
                button(_("✏️ Correct"), SchoolActCb(action="rename", school_id=school_id)),
            ],
            [
                button(_("🔀 Merge into…"), SchoolActCb(action="merge", school_id=school_id)),
                button(_("🚫 Reject"), SchoolActCb(action="reject", school_id=school_id)),
            ],
        ]
    )


async def _typed_school_in_scope(
    repo: Repo, staff: User, role: Role, school_id: int
) -> School | None:
    """A typed-in (unverified) school of the methodist's municipality (any for admins)."""
    school = await repo.reference.school(school_id)
    scope = _scope(staff, role)
    if school is None or school.verified:
        return None
    if scope is not None and school.municipality_id != scope:
        return None
    return school


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


async def on_school_action(
    query: CallbackQuery,
    callback_data: SchoolActCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    bot: Bot,
    i18n: I18n,
) -> None:
    action = callback_data.action
    if action == "cancel":
        await state.clear()
        school = await _typed_school_in_scope(repo, staff, role, callback_data.school_id)
        if school is None:
            await show(query, _("Cancelled."))
            return
        await show(
            query, await _school_card(repo, school, staff.language), _school_keyboard(school.id)
        )
        return
    school = await _typed_school_in_scope(repo, staff, role, callback_data.school_id)
    if school is None:
        await query.answer(
            _("You cannot change this school (it is not of your municipality or already checked)."),
            show_alert=True,
        )
        return
    cancel = [button(_("✖️ Cancel"), SchoolActCb(action="cancel", school_id=school.id))]
    if action == "rename":
        await state.set_state(SchoolForm.name)
        await state.set_data({"school": school.id})
        await show(
            query,
            _("✏️ Type the correct name of {name} (3-200 characters). It will be verified.").format(
                name=h(quoted(school.name))
            ),
            InlineKeyboardMarkup(inline_keyboard=[cancel]),
        )
    elif action == "merge":
        targets = [
            t for t in await repo.reference.schools(school.municipality_id) if t.id != school.id
        ]
        if not targets:
            await query.answer(_("This municipality has no verified schools yet."), show_alert=True)
            return
        page = paginate(targets, callback_data.page, MERGE_TARGETS_PER_PAGE)
        buttons = [
            [button(t.short_name, SchoolActCb(action="into", school_id=school.id, target=t.id))]
            for t in page.items
        ]
        pager = pager_row(page, lambda p: SchoolActCb(action="merge", school_id=school.id, page=p))
        if pager:
            buttons.append(pager)
        buttons.append(cancel)
        await show(
            query,
            _(
                "🔀 Which school is {name}? Its teachers move to the school you choose and the typed name is removed."
            ).format(name=h(quoted(school.name))),
            InlineKeyboardMarkup(inline_keyboard=buttons),
        )
    elif action == "into":
        target = await repo.reference.school(callback_data.target)
        if (
            target is None
            or not target.verified
            or target.id == school.id
            or target.municipality_id != school.municipality_id
        ):
            await query.answer(_("You cannot merge into this school."), show_alert=True)
            return
        name = school.name
        moved = await repo.reference.merge_school(school, target)
        await repo.audit.record(
            "school_merged",
            actor=staff,
            school_id=callback_data.school_id,
            name=name,
            into_school_id=target.id,
            teachers=moved,
        )
        await show(
            query,
            _("🔀 {name} merged into {target}. Teachers moved: {n}.").format(
                name=h(quoted(name)), target=h(quoted(target.name)), n=moved
            ),
        )
    elif action == "reject":
        await show(
            query,
            _(
                "🚫 Reject {name}? The teachers who typed it will be asked to choose their school again."
            ).format(name=h(quoted(school.name))),
            InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        button(
                            _("🚫 Yes, reject"),
                            SchoolActCb(action="reject_yes", school_id=school.id),
                        )
                    ],
                    cancel,
                ]
            ),
        )
    elif action == "reject_yes":
        name = school.name
        teachers = await repo.reference.reject_school(school)
        await repo.audit.record(
            "school_rejected",
            actor=staff,
            school_id=callback_data.school_id,
            name=name,
            teachers=len(teachers),
        )
        await show(
            query,
            _("🚫 {name} rejected. Teachers asked to choose again: {n}.").format(
                name=h(quoted(name)), n=len(teachers)
            ),
        )
        for teacher in teachers:
            await notify_user(bot, i18n, teacher, lambda: _school_rejected_notice(name))
    else:
        await query.answer(_("This button is out of date."), show_alert=True)


def _school_rejected_notice(name: str) -> tuple[str, InlineKeyboardMarkup]:
    return (
        _(
            "🏫 A methodist could not confirm the school {name} you typed in. "
            "Please choose your school again: from the list, or type its full official name."
        ).format(name=h(quoted(name))),
        InlineKeyboardMarkup(
            inline_keyboard=[[button(_("🏫 Choose my school"), EditCb(field=Field.SCHOOL.value))]]
        ),
    )


async def got_school_name(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role
) -> None:
    result = validate_school_name(message.text or "")
    if isinstance(result, Err):
        await message.answer(
            _(
                "Please send the school name as text, from 3 to 200 characters, e.g. <i>МБОУ СОШ № 7</i>."
            )
        )
        return
    school_ref = parse_id(str((await state.get_data()).get("school", "")))
    school = await _typed_school_in_scope(repo, staff, role, school_ref) if school_ref else None
    if school is None:
        await state.clear()
        await message.answer(_("You cannot change this school."))
        return
    same = await repo.reference.school_by_key(school.municipality_id, result.value)
    if same is not None and same.id != school.id:
        await message.answer(
            _("{name} is already in the list: use 🔀 Merge into… instead. /schools").format(
                name=h(quoted(same.name))
            )
        )
        await state.clear()
        return
    await state.clear()
    old = school.name
    await repo.reference.rename_school(school, result.value)
    await repo.audit.record(
        "school_renamed", actor=staff, school_id=school.id, old=old, new=result.value
    )
    await message.answer(
        _("✏️ Corrected and verified: {old} → {new}.").format(
            old=h(quoted(old)), new=h(quoted(result.value))
        )
    )


# ------------------------------------------------------------------ teachers, results, routes


class TeacherCb(CallbackData, prefix="tc"):
    action: str  # comment | step | file | past | arch | cancel
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
    if role is not Role.ADMIN and staff.acting_municipality_id is None:
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
    for chunk in split_html(lines):
        await message.answer(chunk)


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
    row = await repo.users.by_telegram_id(telegram_id)
    teacher = await _teacher_in_scope(repo, staff, role, row.id) if row else None
    if teacher is None:
        await message.answer(
            _("No teacher with this Telegram id in your municipality. Send /teachers for the list.")
        )
        return
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
    finished = [a for a in await repo.assessments.finished(teacher.id) if a.result]
    if finished and finished[-1].result:
        result = AssessmentResult.from_json(finished[-1].result)
        framework = await repo.frameworks.get(result.framework_version)
        if framework is not None:
            blocks += ["", *results_text(framework, result, lang, own=False).split("\n")]
    else:
        blocks += ["", _("No self-assessment yet.")]
    await send_long(bot, message.chat.id, blocks)
    route = await repo.routes.active(teacher.id)
    past = await repo.routes.archived_count(teacher.id)
    buttons = [[button(_("💬 Comment"), TeacherCb(action="comment", user_id=teacher.id))]]
    if past:
        buttons.append(
            [
                button(
                    _("🗂 Past routes ({n})").format(n=past),
                    TeacherCb(action="past", user_id=teacher.id),
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
    comments = await repo.routes.comments(route.id)
    if comments:
        blocks += ["", _("<b>Comments</b>"), *(f"💬 {h(c.text)}" for c in comments[-5:])]
    buttons[0].append(button(_("➕ Add a step"), TeacherCb(action="step", user_id=teacher.id)))
    buttons += _file_buttons(teacher.id, evidence)
    await send_long(bot, message.chat.id, blocks, InlineKeyboardMarkup(inline_keyboard=buttons))


def _file_buttons(teacher_id: int, steps: list[RouteStep]) -> list[list[InlineKeyboardButton]]:
    return [
        [
            button(
                "📎 " + shorten(s.evidence_file_name or _("file"), 40),
                TeacherCb(action="file", user_id=teacher_id, step=s.id),
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
    settings: Settings,
) -> None:
    if callback_data.action == "cancel":
        await state.clear()
        await show(query, _("Cancelled."))
        return
    teacher = await _teacher_in_scope(repo, staff, role, callback_data.user_id)
    if teacher is None:
        await query.answer(_("You cannot change this teacher's route."), show_alert=True)
        return
    assert query.message is not None
    if callback_data.action in {"past", "arch"}:
        await _show_past(query, callback_data, repo, staff, teacher, settings)
        return
    await query.answer()
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
    if callback_data.action not in {"comment", "step"}:
        return
    await state.set_data({"teacher": teacher.id})
    if callback_data.action == "comment":
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


def _cancel_markup(teacher_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[button(_("✖️ Cancel"), TeacherCb(action="cancel", user_id=teacher_id))]]
    )


async def _show_past(
    query: CallbackQuery,
    callback_data: TeacherCb,
    repo: Repo,
    staff: User,
    teacher: User,
    settings: Settings,
) -> None:
    """The teacher's earlier routes, read-only: the list, or one route with its evidence."""
    lang = staff.language
    if callback_data.action == "past":
        routes = await repo.routes.archived(teacher.id)
        if not routes:
            await query.answer(_("No earlier routes."), show_alert=True)
            return
        text, items = past_list_text(routes, settings.tz)
        buttons = [
            [button(label, TeacherCb(action="arch", user_id=teacher.id, step=route_id))]
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
    route = await repo.routes.get(callback_data.step)
    if route is None or route.user_id != teacher.id or route.status != "archived":
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    buttons = [[button(_("⬅️ Past routes"), TeacherCb(action="past", user_id=teacher.id))]]
    buttons += _file_buttons(teacher.id, route.steps)
    await query.answer()
    assert query.message is not None and query.bot is not None
    await send_long(
        query.bot,
        query.message.chat.id,
        [f"👩‍🏫 <b>{h(teacher.full_name or '—')}</b>", *route_blocks(route, lang, settings.tz)],
        InlineKeyboardMarkup(inline_keyboard=buttons),
    )


async def got_comment(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, bot: Bot, i18n: I18n
) -> None:
    text = (message.text or "").strip()
    if not text or len(text) > 500:
        await message.answer(_("Please send a text of up to 500 characters."))
        return
    teacher = await _teacher_in_scope(
        repo, staff, role, parse_id(str((await state.get_data()).get("teacher", ""))) or 0
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
    teacher_ref = parse_id(str((await state.get_data()).get("teacher", ""))) or 0
    await message.answer(
        _("By what date? Send it as DD.MM.YYYY."), reply_markup=_cancel_markup(teacher_ref)
    )


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
    teacher = await _teacher_in_scope(
        repo, staff, role, parse_id(str(data.get("teacher", ""))) or 0
    )
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
    # typed answers first: a command or a menu button sent instead ends the prompt (TypedAnswer)
    router.message.register(got_school_name, SchoolForm.name, TypedAnswer())
    router.message.register(got_comment, CoordinatorForm.comment, TypedAnswer())
    router.message.register(got_step_title, CoordinatorForm.step_title, TypedAnswer())
    router.message.register(got_step_date, CoordinatorForm.step_date, TypedAnswer())
    router.message.register(cmd_schools, Command("schools"))
    router.message.register(cmd_schools, F.text == MENU_STAFF)
    router.callback_query.register(verify_school, VerifySchoolCb.filter())
    router.message.register(cmd_teachers, Command("teachers"))
    router.message.register(cmd_teacher, Command("teacher"))
    router.callback_query.register(on_teacher_action, TeacherCb.filter())
    router.callback_query.register(on_school_action, SchoolActCb.filter())
    return router
