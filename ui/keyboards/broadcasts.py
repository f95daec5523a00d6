"""Keyboards of the `/broadcast` wizard; every step has "⬅️ Back" and "✖️ Cancel"."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from db.models import Event
from domain.broadcasts import EventGroup, Filters
from domain.pagination import Page
from ui.callbacks.broadcasts import BcWiz, BcWizAction
from ui.keyboards.common import button, pager_row, rows

A = BcWizAction


def _wiz(text: str, action: BcWizAction, value: str = "", page: int = 0) -> InlineKeyboardButton:
    return button(text, BcWiz(action=action, value=value, page=page))


def nav_row(back: BcWizAction = A.BACK) -> list[InlineKeyboardButton]:
    return [_wiz(_("⬅️ Back"), back), _wiz(_("✖️ Cancel"), A.CANCEL)]


def nav_markup() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[nav_row()])


def _tick(on: bool, text: str) -> str:
    return ("✅ " if on else "") + text


def buttons_markup(has_event: bool, has_link: bool) -> InlineKeyboardMarkup:
    event = (
        _wiz(_("✖️ Remove the event button"), A.NO_EVENT)
        if has_event
        else _wiz(_("📅 Add the event button"), A.EVENTS)
    )
    link = _wiz(_("✖️ Remove the link"), A.NO_LINK) if has_link else _wiz(_("🔗 Add a link"), A.LINK)
    return InlineKeyboardMarkup(
        inline_keyboard=[[event], [link], [_wiz(_("➡️ Next"), A.NEXT)], nav_row()]
    )


def _event_label(event: Event, tz: tzinfo) -> str:
    title = " ".join(event.title.split())
    title = title if len(title) <= 40 else title[:39].rstrip() + "…"
    return f"{event.starts_at.astimezone(tz):%d.%m} {title}"


def events_markup(
    page: Page[Event], tz: tzinfo, pick: BcWizAction, list_action: BcWizAction, back: BcWizAction
) -> InlineKeyboardMarkup:
    keyboard = [[_wiz(_event_label(e, tz), pick, str(e.id), page.page)] for e in page.items]
    pager = pager_row(page, lambda n: BcWiz(action=list_action, page=n))
    if pager:
        keyboard.append(pager)
    keyboard.append(nav_row(back))
    return InlineKeyboardMarkup(inline_keyboard=keyboard)


def pick_markup(
    items: Page[tuple[str, str, bool]],
    pick: BcWizAction,
    list_action: BcWizAction,
) -> InlineKeyboardMarkup:
    """A page of (value, label, chosen) toggles, back to the audience step."""
    keyboard = [
        [_wiz(_tick(chosen, label[:50]), pick, value, items.page)]
        for value, label, chosen in items.items
    ]
    pager = pager_row(items, lambda n: BcWiz(action=list_action, page=n))
    if pager:
        keyboard.append(pager)
    keyboard.append(nav_row(A.AUDIENCE))
    return InlineKeyboardMarkup(inline_keyboard=keyboard)


def group_label(group: EventGroup) -> str:
    return {
        EventGroup.PARTICIPANTS: _("participants"),
        EventGroup.WAITLIST: _("waitlist"),
        EventGroup.NO_SHOWS: _("no-shows"),
    }[group]


def audience_markup(
    filters: Filters,
    positions: Sequence[tuple[str, str]],
    *,
    admin: bool,
    schools: bool,
    deficit_label: str | None,
    anyone: bool = True,
) -> InlineKeyboardMarkup:
    """The toggles of the audience step; `positions` are (code, label). Without `anyone`
    (nobody matches) there is no "➡️ Next" to the preview and its send buttons."""
    keyboard = rows(
        [
            _wiz(_tick(code in filters.positions, label), A.POSITION, code)
            for code, label in positions
        ],
        2,
    )
    keyboard.append(
        [
            _wiz(_tick("under_35" in filters.age_bands, _("under 35")), A.AGE, "under_35"),
            _wiz(_tick("35_plus" in filters.age_bands, _("35 and over")), A.AGE, "35_plus"),
        ]
    )
    keyboard.append(
        [_wiz(_tick(filters.young, _("🌱 Young teachers (under 35 and up to 3 years)")), A.YOUNG)]
    )
    keyboard.append(
        [
            _wiz(_tick(filters.no_assessment, _("📝 No self-assessment yet")), A.NO_ASSESSMENT),
            _wiz(_tick(filters.no_route, _("🧭 No route yet")), A.NO_ROUTE),
        ]
    )
    pickers = []
    if admin:
        n = len(filters.municipality_ids)
        pickers.append(_wiz(_tick(bool(n), _("🗺 Municipalities")), A.MUNICIPALITIES))
    if schools:
        pickers.append(_wiz(_tick(bool(filters.school_ids), _("🏫 Schools")), A.SCHOOLS))
    pickers.append(
        _wiz(
            _tick(filters.deficit is not None, deficit_label or _("🧩 Competency deficit")),
            A.DEFICITS,
        )
    )
    keyboard += rows(pickers, 2)
    keyboard.append(
        [_wiz(_tick(filters.event_id is not None, _("📅 People of an event")), A.FILTER_EVENTS)]
    )
    if filters.event_id is not None:
        keyboard.append(
            [
                _wiz(_tick(filters.event_group is g, group_label(g)), A.GROUP, g.value)
                for g in EventGroup
            ]
        )
    last = [_wiz(_("♻️ Reset"), A.RESET)]
    if anyone:
        last.append(_wiz(_("➡️ Next"), A.NEXT))
    keyboard.append(last)
    keyboard.append(nav_row())
    return InlineKeyboardMarkup(inline_keyboard=keyboard)


def preview_markup(total: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_wiz(_("🚀 Send now to {n}").format(n=total), A.SEND)],
            [_wiz(_("🗓 Schedule"), A.SCHEDULE)],
            nav_row(),
        ]
    )
