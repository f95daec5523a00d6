"""The question screens: one per field, with the municipality, school and subject pickers."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from db.models import User
from db.repo import Repo
from domain.pagination import paginate
from domain.profile import AgeBand, Field
from handlers.common import show
from handlers.profile.common import STATE_OF, Form, _header, _mode, _nav_row, _years
from ui.callbacks.profile import AgeCb, MuniCb, PositionCb, SchoolCb, SubjectCb
from ui.formatting import h
from ui.keyboards.common import button, pager_row, rows

MUNICIPALITIES_PER_PAGE = 8
SCHOOLS_PER_PAGE = 10
SUBJECTS_PER_PAGE = 12


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
