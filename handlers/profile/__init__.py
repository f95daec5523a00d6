"""Profile wizard and `/profile` card: one question per message, Back and Cancel everywhere.

Every answer is written to the database at once, so an interrupted wizard resumes at the
first unanswered question (even after a restart). The FSM state only says which question
is on screen and whether we are in the first-time wizard or editing one field.
"""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.config import Settings
from bot.usercache import UserContext
from db.models import User
from db.repo import Repo
from domain import profile as rules
from domain.pagination import paginate
from domain.profile import AgeBand, Err, Field, Invalid
from handlers.common import MENU_PROFILE, button, h, main_menu, pager_row, rows, show
from handlers.deeplinks import route_payload

MUNICIPALITIES_PER_PAGE = 8
SCHOOLS_PER_PAGE = 10
SUBJECTS_PER_PAGE = 12
WIZARD = "wizard"
EDIT = "edit"


class Form(StatesGroup):
    full_name = State()
    municipality = State()
    school = State()
    school_name = State()
    position = State()
    subjects = State()
    experience = State()
    age_band = State()


STATE_OF: dict[Field, State] = {
    Field.FULL_NAME: Form.full_name,
    Field.MUNICIPALITY: Form.municipality,
    Field.SCHOOL: Form.school,
    Field.POSITION: Form.position,
    Field.SUBJECTS: Form.subjects,
    Field.EXPERIENCE: Form.experience,
    Field.AGE_BAND: Form.age_band,
}


class Nav(CallbackData, prefix="pf"):
    action: str  # back | cancel | save
    field: str = ""


class EditCb(CallbackData, prefix="pfe"):
    field: str


class MuniCb(CallbackData, prefix="pfm"):
    id: int = 0
    page: int = -1  # >= 0: show that page


class SchoolCb(CallbackData, prefix="pfs"):
    id: int = 0
    page: int = -1
    other: bool = False


class PositionCb(CallbackData, prefix="pfp"):
    code: str


class SubjectCb(CallbackData, prefix="pft"):
    code: str = ""
    page: int = 0
    done: bool = False


class AgeCb(CallbackData, prefix="pfa"):
    band: str


def _field_title(field: Field) -> str:
    return {
        Field.FULL_NAME: _("Full name"),
        Field.MUNICIPALITY: _("Municipality"),
        Field.SCHOOL: _("School"),
        Field.POSITION: _("Position"),
        Field.SUBJECTS: _("Subjects"),
        Field.EXPERIENCE: _("Teaching experience"),
        Field.AGE_BAND: _("Age"),
    }[field]


def _age_label(band: str | None) -> str:
    return {
        AgeBand.UNDER_35.value: _("under 35"),
        AgeBand.FROM_35.value: _("35 and over"),
    }.get(band or "", "—")


def _years(n: int) -> str:
    return ngettext("{n} year", "{n} years", n).format(n=n)


def _nav_row(field: Field, mode: str) -> list[InlineKeyboardButton]:
    row = []
    if mode == EDIT or rules.previous_field(field) is not None:
        row.append(button(_("⬅️ Back"), Nav(action="back", field=field.value)))
    row.append(button(_("✖️ Cancel"), Nav(action="cancel", field=field.value)))
    return row


async def _mode(state: FSMContext) -> str:
    return str((await state.get_data()).get("mode", WIZARD))


def _header(field: Field, mode: str) -> str:
    if mode == EDIT:
        return ""
    step = rules.WIZARD_ORDER.index(field) + 1
    return _("Step {step} of {total}").format(step=step, total=len(rules.WIZARD_ORDER)) + "\n"


async def ask(
    event: Message | CallbackQuery,
    state: FSMContext,
    repo: Repo,
    user: User,
    field: Field,
) -> None:
    """Show the question for `field` and wait for its answer."""
    if field is Field.SCHOOL and user.municipality_id is None:
        field = Field.MUNICIPALITY
    mode = await _mode(state)
    await state.set_state(STATE_OF[field])
    head = _header(field, mode)
    nav = _nav_row(field, mode)
    markup: list[list[InlineKeyboardButton]]
    if field is Field.FULL_NAME:
        text = head + _("What is your full name? For example: <i>Ivanova Anna Petrovna</i>.")
        if user.full_name:
            text += "\n" + _("Now: {value}").format(value=h(user.full_name))
        markup = [nav]
    elif field is Field.MUNICIPALITY:
        await _show_municipalities(event, state, repo, user.language, 0, head)
        return
    elif field is Field.SCHOOL:
        await _show_schools(event, state, repo, user, 0, head)
        return
    elif field is Field.POSITION:
        positions = await repo.reference.positions()
        text = head + _("What is your position?")
        markup = rows(
            [button(p.name(user.language), PositionCb(code=p.code)) for p in positions],
            2,
        )
        markup.append(nav)
    elif field is Field.SUBJECTS:
        codes = await repo.users.subject_codes(user.id)
        await state.update_data(subjects=codes)
        await _show_subjects(event, state, repo, user.language, codes, 0, head)
        return
    elif field is Field.EXPERIENCE:
        text = head + _(
            "How many full years of teaching experience do you have? Send a number, e.g. <i>7</i>."
        )
        if user.experience_years is not None:
            text += "\n" + _("Now: {value}").format(value=_years(user.experience_years))
        markup = [nav]
    else:
        text = head + _("Your age: this helps the methodists support young teachers.")
        markup = [
            [
                button(_("under 35"), AgeCb(band=AgeBand.UNDER_35.value)),
                button(_("35 and over"), AgeCb(band=AgeBand.FROM_35.value)),
            ],
            nav,
        ]
    await show(event, text, InlineKeyboardMarkup(inline_keyboard=markup))


async def _show_municipalities(
    event: Message | CallbackQuery,
    state: FSMContext,
    repo: Repo,
    lang: str,
    page_no: int,
    head: str = "",
) -> None:
    page = paginate(await repo.reference.municipalities(), page_no, MUNICIPALITIES_PER_PAGE)
    markup = [[button(m.name(lang), MuniCb(id=m.id))] for m in page.items]
    pager = pager_row(page, lambda p: MuniCb(page=p))
    if pager:
        markup.append(pager)
    markup.append(_nav_row(Field.MUNICIPALITY, await _mode(state)))
    await show(
        event,
        head + _("Choose your municipality:"),
        InlineKeyboardMarkup(inline_keyboard=markup),
    )


async def _show_schools(
    event: Message | CallbackQuery,
    state: FSMContext,
    repo: Repo,
    user: User,
    page_no: int,
    head: str = "",
) -> None:
    assert user.municipality_id is not None
    schools = await repo.reference.schools(user.municipality_id)
    nav = _nav_row(Field.SCHOOL, await _mode(state))
    if not schools:  # nothing to pick from: the name is typed straight away
        await state.set_state(Form.school_name)
        text = head + _("I have no schools of this municipality yet: please type its name.")
        await show(event, text, InlineKeyboardMarkup(inline_keyboard=[nav]))
        return
    page = paginate(schools, page_no, SCHOOLS_PER_PAGE)
    markup = rows([button(s.short_name, SchoolCb(id=s.id)) for s in page.items], 2)
    pager = pager_row(page, lambda p: SchoolCb(page=p))
    if pager:
        markup.append(pager)
    markup.append([button(_("✏️ My school is not in the list"), SchoolCb(other=True))])
    markup.append(nav)
    text = head + _("Choose your school (or the organisation you work at):")
    await show(event, text, InlineKeyboardMarkup(inline_keyboard=markup))


async def _show_subjects(
    event: Message | CallbackQuery,
    state: FSMContext,
    repo: Repo,
    lang: str,
    selected: list[str],
    page_no: int,
    head: str = "",
) -> None:
    page = paginate(await repo.reference.subjects(), page_no, SUBJECTS_PER_PAGE)
    buttons = [
        button(
            ("✅ " if s.code in selected else "") + s.name(lang),
            SubjectCb(code=s.code, page=page.page),
        )
        for s in page.items
    ]
    markup = rows(buttons, 2)
    pager = pager_row(page, lambda p: SubjectCb(page=p))
    if pager:
        markup.append(pager)
    markup.append([button(_("✔️ Done ({n} chosen)").format(n=len(selected)), SubjectCb(done=True))])
    markup.append(_nav_row(Field.SUBJECTS, await _mode(state)))
    await show(
        event,
        head + _("Which subjects or areas do you teach? Tap all that apply, then press Done."),
        InlineKeyboardMarkup(inline_keyboard=markup),
    )


async def begin_profile(message: Message, state: FSMContext, repo: Repo, user: User) -> None:
    """Start (or resume) the first-time wizard at the first unanswered question."""
    await state.set_state(None)
    await state.set_data({"mode": WIZARD})
    missing = rules.next_missing(await repo.users.snapshot(user))
    if missing is None:
        await show_summary(message, state, repo, user)
    else:
        await ask(message, state, repo, user, missing)


async def advance(
    event: Message | CallbackQuery,
    state: FSMContext,
    repo: Repo,
    user: User,
    answered: Field,
) -> None:
    """After an answer: the next unanswered question (wizard) or back to the card (edit)."""
    mode = await _mode(state)
    if mode == EDIT:
        if answered is Field.MUNICIPALITY and user.school_id is None:
            await ask(event, state, repo, user, Field.SCHOOL)
            return
        await show_summary(event, state, repo, user)
        return
    missing = rules.next_missing(await repo.users.snapshot(user))
    if missing is None:
        await show_summary(event, state, repo, user)
    else:
        await ask(event, state, repo, user, missing)


async def summary_text(repo: Repo, user_id: int, lang: str) -> str:
    full = await repo.users.get_full(user_id)
    assert full is not None
    school = "—"
    if full.school is not None:
        school = h(full.school.name)
        if not full.school.verified:
            school += " " + _("(awaiting check by a methodist)")
    lines = [
        _("👤 <b>Your profile</b>"),
        "",
        f"<b>{_field_title(Field.FULL_NAME)}:</b> {h(full.full_name or '—')}",
        f"<b>{_field_title(Field.MUNICIPALITY)}:</b> "
        + (h(full.municipality.name(lang)) if full.municipality else "—"),
        f"<b>{_field_title(Field.SCHOOL)}:</b> {school}",
        f"<b>{_field_title(Field.POSITION)}:</b> "
        + (h(full.position.name(lang)) if full.position else "—"),
        f"<b>{_field_title(Field.SUBJECTS)}:</b> "
        + (", ".join(h(s.name(lang)) for s in full.subjects) or "—"),
        f"<b>{_field_title(Field.EXPERIENCE)}:</b> "
        + (_years(full.experience_years) if full.experience_years is not None else "—"),
        f"<b>{_field_title(Field.AGE_BAND)}:</b> {_age_label(full.age_band)}",
    ]
    return "\n".join(lines)


async def show_summary(
    event: Message | CallbackQuery, state: FSMContext, repo: Repo, user: User
) -> None:
    await state.set_state(None)  # the card's buttons work in any state; typed text is free
    lang = user.language
    text = await summary_text(repo, user.id, lang)
    complete = rules.next_missing(await repo.users.snapshot(user)) is None
    edit_buttons = [
        button("✏️ " + _field_title(f), EditCb(field=f.value)) for f in rules.WIZARD_ORDER
    ]
    markup = rows(edit_buttons, 2)
    if complete:
        label = _("✅ Everything is correct") if user.profile_completed_at is None else _("✅ Done")
        markup.append([button(label, Nav(action="save"))])
    else:
        text += "\n\n" + _("Some answers are missing: fill them in to finish.")
    await show(event, text, InlineKeyboardMarkup(inline_keyboard=markup))


# ---------------------------------------------------------------- entry points


async def cmd_profile(message: Message, state: FSMContext, repo: Repo, user: UserContext) -> None:
    db_user = await repo.users.require(user.id)
    if db_user.profile_completed_at is None:
        await begin_profile(message, state, repo, db_user)
        return
    await state.set_data({"mode": EDIT})
    await show_summary(message, state, repo, db_user)


async def edit_field(
    query: CallbackQuery,
    callback_data: EditCb,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
) -> None:
    try:
        field = Field(callback_data.field)
    except ValueError:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    db_user = await repo.users.require(user.id)
    # a field opened from the card returns to the card when answered
    await state.set_data({"mode": EDIT})
    await ask(query, state, repo, db_user, field)


async def nav_back(
    query: CallbackQuery,
    callback_data: Nav,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
) -> None:
    db_user = await repo.users.require(user.id)
    if await _mode(state) == EDIT:
        await show_summary(query, state, repo, db_user)
        return
    try:
        prev = rules.previous_field(Field(callback_data.field))
    except ValueError:
        prev = None
    if prev is None:
        await query.answer()
        return
    await ask(query, state, repo, db_user, prev)


async def nav_cancel(
    query: CallbackQuery, state: FSMContext, repo: Repo, user: UserContext
) -> None:
    db_user = await repo.users.require(user.id)
    if await _mode(state) == EDIT:
        await show_summary(query, state, repo, db_user)
        return
    await state.clear()
    await show(
        query,
        _("Paused. Your answers so far are saved: send /profile to continue where you stopped."),
    )


async def save_profile(
    query: CallbackQuery, state: FSMContext, repo: Repo, user: UserContext, settings: Settings
) -> None:
    db_user = await repo.users.require(user.id)
    missing = rules.next_missing(await repo.users.snapshot(db_user))
    if missing is not None:
        await query.answer(_("Some answers are missing: fill them in to finish."), show_alert=True)
        return
    first_time = db_user.profile_completed_at is None
    await repo.users.complete_profile(db_user)
    await state.clear()
    await show(query, await summary_text(repo, db_user.id, db_user.language))
    assert isinstance(query.message, Message)
    if first_time:
        await repo.audit.record("profile_completed", actor=db_user)
        await query.message.answer(
            _(
                "🎉 Your profile is ready. Thank you! Use the menu below; /help shows everything I can do."
            ),
            reply_markup=main_menu(user.role),
        )
        await route_payload(query.message, repo, db_user, settings)
    else:
        await query.message.answer(_("Saved."), reply_markup=main_menu(user.role))


# ---------------------------------------------------------------- answers


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


def make_router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name="profile")
    router.message.register(cmd_profile, F.text == MENU_PROFILE, flags={"needs": "consent"})
    router.message.register(cmd_profile, Command("profile"), flags={"needs": "consent"})
    router.callback_query.register(edit_field, EditCb.filter(), flags={"needs": "consent"})
    router.callback_query.register(nav_back, Nav.filter(F.action == "back"))
    router.callback_query.register(nav_cancel, Nav.filter(F.action == "cancel"))
    router.callback_query.register(
        save_profile, Nav.filter(F.action == "save"), flags={"needs": "consent"}
    )
    router.message.register(got_full_name, Form.full_name, F.text)
    router.callback_query.register(muni_page, Form.municipality, MuniCb.filter(F.page >= 0))
    router.callback_query.register(muni_pick, Form.municipality, MuniCb.filter(F.page < 0))
    router.callback_query.register(school_other, Form.school, SchoolCb.filter(F.other))
    router.callback_query.register(school_page, Form.school, SchoolCb.filter(F.page >= 0))
    router.callback_query.register(school_pick, Form.school, SchoolCb.filter())
    router.message.register(got_school_name, Form.school_name, F.text)
    router.callback_query.register(position_pick, Form.position, PositionCb.filter())
    router.callback_query.register(subjects_done, Form.subjects, SubjectCb.filter(F.done))
    router.callback_query.register(subjects_toggle, Form.subjects, SubjectCb.filter())
    router.message.register(got_experience, Form.experience, F.text)
    router.callback_query.register(age_pick, Form.age_band, AgeCb.filter())
    router.message.register(
        expected_button,
        StateFilter(Form.municipality, Form.school, Form.position, Form.subjects, Form.age_band),
    )
    router.message.register(
        expected_text, StateFilter(Form.full_name, Form.school_name, Form.experience)
    )
    return router
