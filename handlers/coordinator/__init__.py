"""Coordinators (methodists): check the schools teachers typed in, follow their teachers.

Scoped to their municipality (admins see every one).
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command

from bot.middlewares.offload import OFFLOAD
from domain.roles import Role
from handlers.coordinator.common import CoordinatorForm, SchoolForm
from handlers.coordinator.diagnoses import cmd_diagnosis_template
from handlers.coordinator.prompts import got_comment, got_step_date, got_step_title
from handlers.coordinator.schools import (
    cmd_schools,
    got_school_name,
    on_school_action,
    verify_school,
)
from handlers.coordinator.teacher_view import cmd_teacher, on_teacher_action
from handlers.coordinator.teachers import cmd_teachers
from handlers.coordinator.tools import staff_menu
from handlers.filters import RoleFilter
from handlers.freetext import TypedAnswer
from ui.callbacks.coordinator import SchoolActCb, TeacherCb, VerifySchoolCb
from ui.keyboards.menu import MENU_STAFF

__all__ = ["make_router"]


def make_router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name="coordinator")
    router.message.filter(RoleFilter(Role.SCHOOL_METHODIST))
    router.callback_query.filter(RoleFilter(Role.SCHOOL_METHODIST))
    # typed answers first: a command or a menu button sent instead ends the prompt (TypedAnswer)
    router.message.register(got_school_name, SchoolForm.name, TypedAnswer())
    router.message.register(got_comment, CoordinatorForm.comment, TypedAnswer())
    router.message.register(got_step_title, CoordinatorForm.step_title, TypedAnswer())
    router.message.register(got_step_date, CoordinatorForm.step_date, TypedAnswer())
    router.message.register(cmd_schools, Command("schools"), flags=OFFLOAD)
    router.message.register(staff_menu, F.text == MENU_STAFF)
    router.callback_query.register(verify_school, VerifySchoolCb.filter())
    router.message.register(cmd_teachers, Command("teachers"), flags=OFFLOAD)
    router.message.register(cmd_teacher, Command("teacher"))
    router.message.register(cmd_diagnosis_template, Command("diagnosis_template"))
    router.callback_query.register(on_teacher_action, TeacherCb.filter())
    router.callback_query.register(on_school_action, SchoolActCb.filter())
    return router
