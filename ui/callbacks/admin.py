"""Callback data of /admin. Every id is re-checked on the server (and the role filter re-reads
the administrator's role on every tap)."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class AdminAction(StrEnum):
    HOME = "home"
    HEALTH = "health"
    FIND = "find"
    STAFF = "staff"
    #: a user's card
    USER = "user"
    #: make the user a teacher again
    REVOKE = "revoke"
    #: make the user a coordinator of the whole region
    REGION = "region"
    #: the municipality picker of a coordinator's scope
    MUNIS = "munis"
    #: add or remove one municipality (`value`) of a coordinator's scope
    MUNI = "muni"
    ADMIN = "admin"


class AdminCb(CallbackData, prefix="ad"):
    action: AdminAction
    user_id: int = 0
    value: int = 0
