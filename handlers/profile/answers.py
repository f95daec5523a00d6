"""The answers: typed text and picker buttons, each written to the database at once."""

from __future__ import annotations

from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from core.usercache import UserContext
from db.repo import Repo
from domain import profile as rules
from domain.profile import AgeBand, Err, Field, Invalid
from handlers.common import show
from handlers.profile.callbacks import AgeCb, MuniCb, PositionCb, SchoolCb, SubjectCb
from handlers.profile.common import STATE_OF, Form, _header, _mode, _nav_row
from handlers.profile.questions import _show_municipalities, _show_schools, _show_subjects, ask
from handlers.profile.wizard import advance


async def got_full_name(message: Message, state: FSMContext, repo: Repo, user: UserContext) -> None:
    result = rules.validate_full_name(message.text or "")
    if isinstance(result, Err):
        await message.answer(_name_error(result.reason))
        return
    db_user = await repo.users.require(user.id)
    await repo.users.set_fields(db_user, full_name=result.value)
    await advance(message, state, repo, db_user, Field.FULL_NAME)


def _name_error(reason: Invalid) -> str:
    if reason is Invalid.TOO_LONG:
        return _("That is longer than a name can be here (120 characters). Please send it shorter.")
    if reason is Invalid.BAD_CHARS:
        return _(
            "Please use letters only (a hyphen or an apostrophe is fine), e.g. <i>Ivanova Anna Petrovna</i>."
        )
    return _(
        "Please send your surname and first name (and patronymic, if you have one), e.g. <i>Ivanova Anna Petrovna</i>."
    )


async def muni_page(
    query: CallbackQuery,
    callback_data: MuniCb,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
) -> None:
    head = _header(Field.MUNICIPALITY, await _mode(state))
    await _show_municipalities(query, state, repo, user.language, callback_data.page, head)


async def muni_pick(
    query: CallbackQuery,
    callback_data: MuniCb,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
) -> None:
    municipality = await repo.reference.municipality(callback_data.id)
    if municipality is None:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    db_user = await repo.users.require(user.id)
    changes: dict[str, Any] = {"municipality_id": municipality.id}
    if db_user.municipality_id != municipality.id:
        changes["school_id"] = None
    await repo.users.set_fields(db_user, **changes)
    await advance(query, state, repo, db_user, Field.MUNICIPALITY)


async def school_other(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(Form.school_name)
    await show(
        query,
        _(
            "Type the full name of your school, e.g. <i>МБОУ СОШ № 7</i>. A methodist will check it."
        ),
        InlineKeyboardMarkup(inline_keyboard=[_nav_row(Field.SCHOOL, await _mode(state))]),
    )


async def school_page(
    query: CallbackQuery,
    callback_data: SchoolCb,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
) -> None:
    db_user = await repo.users.require(user.id)
    if db_user.municipality_id is None:
        await ask(query, state, repo, db_user, Field.MUNICIPALITY)
        return
    await _show_schools(
        query,
        state,
        repo,
        db_user,
        callback_data.page,
        _header(Field.SCHOOL, await _mode(state)),
    )


async def school_pick(
    query: CallbackQuery,
    callback_data: SchoolCb,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
) -> None:
    db_user = await repo.users.require(user.id)
    school = await repo.reference.school(callback_data.id)
    if (
        school is None
        or school.municipality_id != db_user.municipality_id
        or not (school.verified or school.id == db_user.school_id)
    ):
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    await repo.users.set_fields(db_user, school_id=school.id)
    await advance(query, state, repo, db_user, Field.SCHOOL)


async def got_school_name(
    message: Message, state: FSMContext, repo: Repo, user: UserContext
) -> None:
    db_user = await repo.users.require(user.id)
    if db_user.municipality_id is None:
        await ask(message, state, repo, db_user, Field.MUNICIPALITY)
        return
    result = rules.validate_school_name(message.text or "")
    if isinstance(result, Err):
        await message.answer(
            _(
                "Please send the school name as text, from 3 to 200 characters, e.g. <i>МБОУ СОШ № 7</i>."
            )
        )
        return
    school = await repo.reference.find_or_add_school(db_user.municipality_id, result.value)
    await repo.users.set_fields(db_user, school_id=school.id)
    if not school.verified:
        await message.answer(_("Thank you! A methodist of your municipality will check this name."))
    await advance(message, state, repo, db_user, Field.SCHOOL)


async def position_pick(
    query: CallbackQuery,
    callback_data: PositionCb,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
) -> None:
    position = await repo.reference.position(callback_data.code)
    if position is None:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    db_user = await repo.users.require(user.id)
    await repo.users.set_fields(db_user, position_code=position.code)
    await advance(query, state, repo, db_user, Field.POSITION)


async def subjects_done(
    query: CallbackQuery, state: FSMContext, repo: Repo, user: UserContext
) -> None:
    selected = list((await state.get_data()).get("subjects", []))
    if not selected:
        await query.answer(_("Choose at least one subject or area."), show_alert=True)
        return
    db_user = await repo.users.require(user.id)
    await repo.users.set_subjects(db_user, selected)
    await advance(query, state, repo, db_user, Field.SUBJECTS)


async def subjects_toggle(
    query: CallbackQuery,
    callback_data: SubjectCb,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
) -> None:
    selected = list((await state.get_data()).get("subjects", []))
    if callback_data.code:
        known = {s.code for s in await repo.reference.subjects()}
        if callback_data.code not in known:
            await query.answer(_("This button is out of date."), show_alert=True)
            return
        if callback_data.code in selected:
            selected.remove(callback_data.code)
        else:
            selected.append(callback_data.code)
        await state.update_data(subjects=selected)
    await _show_subjects(
        query,
        state,
        repo,
        user.language,
        selected,
        callback_data.page,
        _header(Field.SUBJECTS, await _mode(state)),
    )


async def got_experience(
    message: Message, state: FSMContext, repo: Repo, user: UserContext
) -> None:
    result = rules.parse_experience(message.text or "")
    if isinstance(result, Err):
        if result.reason is Invalid.OUT_OF_RANGE:
            await message.answer(_("That seems too many. Please send a number from 0 to 60."))
        else:
            await message.answer(
                _(
                    "Please send the number of years as digits, e.g. <i>7</i> (0 if this is your first year)."
                )
            )
        return
    db_user = await repo.users.require(user.id)
    await repo.users.set_fields(db_user, experience_years=result.value)
    await advance(message, state, repo, db_user, Field.EXPERIENCE)


async def age_pick(
    query: CallbackQuery,
    callback_data: AgeCb,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
) -> None:
    if callback_data.band not in {b.value for b in AgeBand}:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    db_user = await repo.users.require(user.id)
    await repo.users.set_fields(db_user, age_band=callback_data.band)
    await advance(query, state, repo, db_user, Field.AGE_BAND)


async def expected_button(
    message: Message, state: FSMContext, repo: Repo, user: UserContext
) -> None:
    """Typed text where a button is expected: say so and show the question again."""
    db_user = await repo.users.require(user.id)
    current = await state.get_state()
    await message.answer(_("Please use the buttons of the question 👇"))
    field = next(f for f, s in STATE_OF.items() if s.state == current)
    await ask(message, state, repo, db_user, field)


async def expected_text(message: Message) -> None:
    await message.answer(_("Please answer with a text message."))
