"""Profile wizard and `/profile` card: one question per message, Back and Cancel everywhere.

Every answer is written to the database at once, so an interrupted wizard resumes at the
first unanswered question (even after a restart). The FSM state only says which question
is on screen and whether we are in the first-time wizard or editing one field.
The answers, the card and saving are `services.profile`; validation and the wizard order
are `domain.profile`.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter

from handlers.profile.answers import (
    age_pick,
    expected_button,
    expected_text,
    got_experience,
    got_full_name,
    got_school_name,
    muni_page,
    muni_pick,
    position_pick,
    school_other,
    school_page,
    school_pick,
    subjects_done,
    subjects_toggle,
)
from handlers.profile.card import save_profile, show_summary, summary_text
from handlers.profile.common import Form
from handlers.profile.questions import ask
from handlers.profile.wizard import (
    begin_profile,
    cmd_profile,
    edit_field,
    nav_back,
    nav_cancel,
    show_next,
)
from ui.callbacks.profile import (
    AgeCb,
    EditCb,
    MuniCb,
    Nav,
    NavAction,
    PositionCb,
    SchoolCb,
    SubjectCb,
)
from ui.keyboards.menu import MENU_PROFILE

__all__ = [
    "Form",
    "ask",
    "begin_profile",
    "make_router",
    "show_next",
    "show_summary",
    "summary_text",
]


def make_router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name="profile")
    router.message.register(cmd_profile, F.text == MENU_PROFILE, flags={"needs": "consent"})
    router.message.register(cmd_profile, Command("profile"), flags={"needs": "consent"})
    router.callback_query.register(edit_field, EditCb.filter(), flags={"needs": "consent"})
    router.callback_query.register(nav_back, Nav.filter(F.action == NavAction.BACK))
    router.callback_query.register(nav_cancel, Nav.filter(F.action == NavAction.CANCEL))
    router.callback_query.register(
        save_profile, Nav.filter(F.action == NavAction.SAVE), flags={"needs": "consent"}
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
