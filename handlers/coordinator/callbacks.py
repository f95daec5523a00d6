"""Callback data of the coordinator's screens: typed schools and teachers."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class VerifySchoolCb(CallbackData, prefix="vs"):
    school_id: int


class SchoolActCb(CallbackData, prefix="sx"):
    """What a methodist does with a typed school. Every id is re-checked on the server."""

    action: str  # rename | merge | into | reject | reject_yes | cancel
    school_id: int
    target: int = 0  # into: the school to merge into
    page: int = 0  # merge: the page of the target list


class TeacherCb(CallbackData, prefix="tc"):
    action: str  # comment | step | file | past | arch | cancel
    user_id: int
    step: int = 0
