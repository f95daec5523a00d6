"""/schools: the schools teachers typed in, to verify, correct, merge or reject."""

from __future__ import annotations

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from core.clock import Clock
from db.models import School, User
from db.repo import Repo
from domain.ids import parse_id
from domain.notices import Notice, NoticeKind
from domain.pagination import paginate
from domain.profile import Err, validate_school_name
from domain.roles import Role
from domain.typography import quoted
from handlers.common import show
from handlers.coordinator.common import SchoolForm, _scope
from ui.callbacks.coordinator import SchoolActCb, SchoolAction, VerifySchoolCb
from ui.formatting import h
from ui.keyboards.common import button, pager_row

SCHOOLS_SHOWN = 10
MERGE_TARGETS_PER_PAGE = 8


async def cmd_schools(message: Message, repo: Repo, staff: User, role: Role) -> None:
    schools = await repo.reference.unverified_schools(await _scope(repo, staff, role))
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
                button(
                    _("✏️ Correct"), SchoolActCb(action=SchoolAction.RENAME, school_id=school_id)
                ),
            ],
            [
                button(
                    _("🔀 Merge into…"), SchoolActCb(action=SchoolAction.MERGE, school_id=school_id)
                ),
                button(
                    _("🚫 Reject"), SchoolActCb(action=SchoolAction.REJECT, school_id=school_id)
                ),
            ],
        ]
    )


async def _typed_school_in_scope(
    repo: Repo, staff: User, role: Role, school_id: int
) -> School | None:
    """A typed-in (unverified) school inside the methodist's scope (any for admins)."""
    school = await repo.reference.school(school_id)
    scope = await _scope(repo, staff, role)
    if school is None or school.verified:
        return None
    if not scope.allows(school.municipality_id, school.id):
        return None
    return school


async def verify_school(
    query: CallbackQuery, callback_data: VerifySchoolCb, repo: Repo, staff: User, role: Role
) -> None:
    school = await repo.reference.school(callback_data.school_id)
    scope = await _scope(repo, staff, role)
    if school is None or not scope.allows(school.municipality_id, school.id):
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
    clock: Clock,
) -> None:
    action = callback_data.action
    if action == SchoolAction.CANCEL:
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
    cancel = [button(_("✖️ Cancel"), SchoolActCb(action=SchoolAction.CANCEL, school_id=school.id))]
    if action == SchoolAction.RENAME:
        await state.set_state(SchoolForm.name)
        await state.set_data({"school": school.id})
        await show(
            query,
            _("✏️ Type the correct name of {name} (3-200 characters). It will be verified.").format(
                name=h(quoted(school.name))
            ),
            InlineKeyboardMarkup(inline_keyboard=[cancel]),
        )
    elif action == SchoolAction.MERGE:
        targets = [
            t for t in await repo.reference.schools(school.municipality_id) if t.id != school.id
        ]
        if not targets:
            await query.answer(_("This municipality has no verified schools yet."), show_alert=True)
            return
        page = paginate(targets, callback_data.page, MERGE_TARGETS_PER_PAGE)
        buttons = [
            [
                button(
                    t.short_name,
                    SchoolActCb(action=SchoolAction.INTO, school_id=school.id, target=t.id),
                )
            ]
            for t in page.items
        ]
        pager = pager_row(
            page, lambda p: SchoolActCb(action=SchoolAction.MERGE, school_id=school.id, page=p)
        )
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
    elif action == SchoolAction.INTO:
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
    elif action == SchoolAction.REJECT:
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
                            SchoolActCb(action=SchoolAction.REJECT_YES, school_id=school.id),
                        )
                    ],
                    cancel,
                ]
            ),
        )
    elif action == SchoolAction.REJECT_YES:
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
        await repo.outbox.add(
            [Notice(t.id, NoticeKind.SCHOOL_REJECTED, {"name": name}) for t in teachers],
            clock.now(),
        )
    else:
        await query.answer(_("This button is out of date."), show_alert=True)


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
