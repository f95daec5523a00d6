"""The answers: typed text and picker buttons, each written to the database at once."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from core.usercache import UserContext
from db.repo import Repo
from domain.profile import Field, Invalid
from handlers.common import show
from handlers.profile.common import STATE_OF, Form, _header, _mode, _nav_row
from handlers.profile.questions import _show_municipalities, _show_schools, _show_subjects, ask
from handlers.profile.wizard import editing, show_next
from services import profile as service
from services.profile import Next, Refusal
from ui.callbacks.profile import AgeCb, MuniCb, PositionCb, SchoolCb, SubjectCb


async def _stale(query: CallbackQuery) -> None:
    await query.answer(_("This button is out of date."), show_alert=True)


async def got_full_name(message: Message, state: FSMContext, repo: Repo, user: UserContext) -> None:
    found = await service.set_full_name(
        repo, user.id, message.text or "", editing=await editing(state)
    )
    if isinstance(found, Invalid):
        await message.answer(_name_error(found))
        return
    await show_next(message, state, repo, found)


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


async def _answered(
    query: CallbackQuery, state: FSMContext, repo: Repo, found: Next | Refusal
) -> None:
    """A picker's answer: the next question or the card; a stale button is said so."""
    if isinstance(found, Refusal):
        await _stale(query)
        return
    await show_next(query, state, repo, found)


async def muni_pick(
    query: CallbackQuery,
    callback_data: MuniCb,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
) -> None:
    found = await service.pick_municipality(
        repo, user.id, callback_data.id, editing=await editing(state)
    )
    await _answered(query, state, repo, found)


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
    found = await service.pick_school(repo, user.id, callback_data.id, editing=await editing(state))
    await _answered(query, state, repo, found)


async def got_school_name(
    message: Message, state: FSMContext, repo: Repo, user: UserContext
) -> None:
    found = await service.type_school(
        repo, user.id, message.text or "", editing=await editing(state)
    )
    if isinstance(found, Invalid):
        await message.answer(
            _(
                "Please send the school name as text, from 3 to 200 characters, e.g. <i>МБОУ СОШ № 7</i>."
            )
        )
        return
    if found.school_unverified:
        await message.answer(_("Thank you! A methodist of your municipality will check this name."))
    await show_next(message, state, repo, found)


async def position_pick(
    query: CallbackQuery,
    callback_data: PositionCb,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
) -> None:
    found = await service.pick_position(
        repo, user.id, callback_data.code, editing=await editing(state)
    )
    await _answered(query, state, repo, found)


async def subjects_done(
    query: CallbackQuery, state: FSMContext, repo: Repo, user: UserContext
) -> None:
    selected = list((await state.get_data()).get("subjects", []))
    found = await service.save_subjects(repo, user.id, selected, editing=await editing(state))
    if found is Refusal.NOTHING_CHOSEN:
        await query.answer(_("Choose at least one subject or area."), show_alert=True)
        return
    await _answered(query, state, repo, found)


async def subjects_toggle(
    query: CallbackQuery,
    callback_data: SubjectCb,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
) -> None:
    selected = list((await state.get_data()).get("subjects", []))
    if callback_data.code:
        toggled = await service.toggle_subject(repo, selected, callback_data.code)
        if isinstance(toggled, Refusal):
            await _stale(query)
            return
        selected = toggled
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
    found = await service.set_experience(
        repo, user.id, message.text or "", editing=await editing(state)
    )
    if isinstance(found, Invalid):
        if found is Invalid.OUT_OF_RANGE:
            await message.answer(_("That seems too many. Please send a number from 0 to 60."))
        else:
            await message.answer(
                _(
                    "Please send the number of years as digits, e.g. <i>7</i> (0 if this is your first year)."
                )
            )
        return
    await show_next(message, state, repo, found)


async def age_pick(
    query: CallbackQuery,
    callback_data: AgeCb,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
) -> None:
    found = await service.pick_age(repo, user.id, callback_data.band, editing=await editing(state))
    await _answered(query, state, repo, found)


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
