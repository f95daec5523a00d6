"""FSM states of the wizards and of the forms opened from the event and site cards."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class EventForm(StatesGroup):
    kind = State()
    title = State()
    description = State()
    starts = State()
    ends = State()
    place = State()
    capacity = State()
    competencies = State()
    site = State()
    audience = State()
    confirm = State()


class SiteForm(StatesGroup):
    title = State()
    topic = State()
    school = State()
    competencies = State()
    description = State()
    contact = State()
    modules = State()
    confirm = State()


class EventAdminForm(StatesGroup):
    message = State()
    preview = State()  # the message to participants shown as they will get it, to confirm
    capacity = State()


class EventEditForm(StatesGroup):
    title = State()
    description = State()
    starts = State()
    ends = State()
    place = State()
    deadline = State()


class SiteEditForm(StatesGroup):
    title = State()
    description = State()
    contact = State()
    modules = State()
