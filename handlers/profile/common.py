"""Shared pieces of the profile screens: the question states, titles, Back/Cancel row, mode."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from domain import profile as rules
from domain.profile import AgeBand, Field
from ui.callbacks.profile import Nav, NavAction
from ui.keyboards.common import button

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
        row.append(button(_("⬅️ Back"), Nav(action=NavAction.BACK, field=field.value)))
    row.append(button(_("✖️ Cancel"), Nav(action=NavAction.CANCEL, field=field.value)))
    return row


async def _mode(state: FSMContext) -> str:
    return str((await state.get_data()).get("mode", WIZARD))


def _header(field: Field, mode: str) -> str:
    if mode == EDIT:
        return ""
    step = rules.WIZARD_ORDER.index(field) + 1
    return _("Step {step} of {total}").format(step=step, total=len(rules.WIZARD_ORDER)) + "\n"
