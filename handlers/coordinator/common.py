"""Shared pieces of the coordinator's screens: the prompt states and the municipality scope."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from db.models import User
from domain.roles import Role, staff_scope
from ui.callbacks.coordinator import TeacherAction, TeacherCb
from ui.keyboards.common import button


class SchoolForm(StatesGroup):
    name = State()


def _scope(staff: User, role: Role) -> int | None:
    """Admins see every municipality; a coordinator only their own."""
    return staff_scope(role, staff.acting_municipality_id)


class CoordinatorForm(StatesGroup):
    comment = State()
    step_title = State()
    step_date = State()


def _cancel_markup(teacher_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(_("✖️ Cancel"), TeacherCb(action=TeacherAction.CANCEL, user_id=teacher_id))]
        ]
    )
