"""Shared pieces of the coordinator's screens: the prompt states and the staff scope."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from db.models import User
from db.repo import Repo
from domain.roles import Role
from domain.scope import Scope
from services import staff as staff_service
from ui.callbacks.coordinator import TeacherAction, TeacherCb
from ui.keyboards.common import button


class SchoolForm(StatesGroup):
    name = State()


async def _scope(repo: Repo, staff: User, role: Role) -> Scope:
    """Admins see the region; a coordinator their municipalities; a school methodist their
    school."""
    return await staff_service.scope(repo, staff, role)


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
