"""Callback data of the coordinator's screens: typed schools and teachers."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class VerifySchoolCb(CallbackData, prefix="vs"):
    school_id: int


class SchoolAction(StrEnum):
    RENAME = "rename"
    MERGE = "merge"
    INTO = "into"
    REJECT = "reject"
    REJECT_YES = "reject_yes"
    CANCEL = "cancel"


class SchoolActCb(CallbackData, prefix="sx"):
    """What a methodist does with a typed school. Every id is re-checked on the server."""

    action: SchoolAction
    school_id: int
    target: int = 0  # into: the school to merge into
    page: int = 0  # merge: the page of the target list


class TeacherAction(StrEnum):
    COMMENT = "comment"
    STEP = "step"
    FILE = "file"
    PAST = "past"
    ARCH = "arch"
    CANCEL = "cancel"


class TeacherCb(CallbackData, prefix="tc"):
    action: TeacherAction
    user_id: int
    step: int = 0
