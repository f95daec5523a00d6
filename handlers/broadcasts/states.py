"""The `/broadcast` wizard's states and what its steps share: the draft kept in FSM data
(where the message is, never its content), read back without trusting it."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from db.models import User
from db.repo import Repo
from domain.broadcasts import Filters, Scope
from domain.roles import Role
from services import broadcasts as service
from ui.formatting import h


class BcForm(StatesGroup):
    message = State()
    buttons = State()
    link = State()
    audience = State()
    preview = State()
    when = State()


WIZARD_STATES = frozenset(s.state for s in BcForm.__all_states__)


def read_filters(data: dict[str, Any]) -> Filters | None:
    """The draft's filters; None when the stored form is malformed (forged or stale)."""
    raw = data.get("filters")
    if not isinstance(raw, dict):
        return None
    try:
        return Filters.from_json(raw)
    except (ValueError, TypeError):
        return None


def home_municipality(scope: Scope | None, filters: Filters) -> int | None:
    """Whose schools and events the pickers list: the scope's one municipality, or the one
    chosen of several (None: none or several chosen; a school scope: its one school needs
    no picking)."""
    if scope is None or scope.school_ids is not None:
        return None
    if scope.municipality_ids is not None and len(scope.municipality_ids) == 1:
        return min(scope.municipality_ids)
    return filters.municipality_ids[0] if len(filters.municipality_ids) == 1 else None


def picks_municipalities(scope: Scope | None) -> bool:
    """Can the sender narrow the audience by municipality (the region, or several)?"""
    return (
        scope is not None
        and scope.school_ids is None
        and (scope.municipality_ids is None or len(scope.municipality_ids) > 1)
    )


async def scope_of(repo: Repo, staff: User, role: Role) -> Scope | None:
    return await service.scope_for(repo, staff, role)


def refusal_text(refusal: service.Refusal) -> str:
    if refusal is service.Refusal.OUT_OF_SCOPE:
        return _("This is outside your municipality. Nothing was changed.")
    if refusal is service.Refusal.PAST:
        return _("This time has already passed. Please choose a time in the future.")
    if refusal is service.Refusal.BAD_URL:
        return _("This link cannot be used. Please add it again.")
    if refusal is service.Refusal.EMPTY:
        return empty_text()
    return _("This action is not available to you.")


def content_of(message: Message) -> tuple[str, str] | None:
    """What a broadcast can copy: (kind, its text or caption on one line), or None for
    anything else (a sticker, a voice message…)."""
    if message.photo:
        kind = "photo"
    elif message.document is not None:
        kind = "document"
    elif message.text:
        kind = "text"
    else:
        return None
    return kind, " ".join((message.text or message.caption or "").split())


def content_prompt() -> str:
    return _("Please send a text, a photo or a document with a caption.")


def when_prompt(tz: tzinfo) -> str:
    return _(
        "When should it start? Send the date and time as DD.MM.YYYY HH:MM in your time zone "
        "({zone}), e.g. 25.12.2026 10:00."
    ).format(zone=h(str(tz)))


def count_line(total: int, muted: int) -> str:
    return _("👥 Recipients: {n} (of them {m} have muted news)").format(n=total, m=muted)


def empty_text() -> str:
    return _("Nobody matches these filters — change them.")


def expired_text() -> str:
    return _("This draft is no longer active. Send /broadcast to start a new one.")


async def has_anyone(
    query: CallbackQuery, data: dict[str, Any], repo: Repo, staff: User, role: Role
) -> bool:
    """Does the draft's audience have anyone in it now? If not, say so (no scheduling for
    nobody; "send now" is refused by `service.create` itself)."""
    filters = read_filters(data)
    if filters is None:
        await query.answer(_("This draft is damaged. Please tap ♻️ Reset."), show_alert=True)
        return False
    size = await service.audience_size(repo, staff, role, filters)
    if isinstance(size, service.Refusal) or size[0] == 0:
        text = refusal_text(size) if isinstance(size, service.Refusal) else empty_text()
        await query.answer(text, show_alert=True)
        return False
    return True
