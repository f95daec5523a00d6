"""Shared parts: scope checks, keyboards, answers and questions used by both wizards and the edit
forms, the wizard step helpers, and delivering the notices of a use case."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from db.models import Event, Site, User
from db.repo import Repo
from domain.event_forms import (
    CONTACT_MAX,
    CONTACT_MIN,
    DESCRIPTION_MAX,
    MODULES_MAX,
    MODULES_MIN,
    PLACE_MAX,
    PLACE_MIN,
    TITLE_MAX,
    TITLE_MIN,
    BadModuleLine,
    fits,
    local_text,
    parse_end,
    parse_local,
    parse_modules,
    split_place,
)
from domain.framework import Framework
from domain.roles import Role
from domain.scope import Scope
from handlers.common import show
from handlers.wizard import Rows, Wizard
from services import staff as staff_service
from ui.callbacks.event_admin import (
    AdminFormAction,
    AdminFormCb,
    EventEditCb,
    EventEditField,
    SiteAdminAction,
    SiteAdminCb,
)
from ui.callbacks.wizard import WizardNav
from ui.formatting import h
from ui.keyboards.common import button


def _markup(buttons: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=buttons)


def _form_cancel() -> InlineKeyboardMarkup:
    return _markup([[button(_("✖️ Cancel"), AdminFormCb(action=AdminFormAction.CANCEL))]])


def _edit_cancel(event_id: int) -> InlineKeyboardMarkup:
    return _markup(
        [[button(_("✖️ Cancel"), EventEditCb(field=EventEditField.CANCEL, event=event_id))]]
    )


def _site_edit_cancel(site_id: int) -> InlineKeyboardMarkup:
    return _markup(
        [[button(_("✖️ Cancel"), SiteAdminCb(action=SiteAdminAction.CANCEL, site=site_id))]]
    )


async def _scope(repo: Repo, staff: User, role: Role) -> Scope:
    """Admins see the region; a coordinator their municipalities; a school methodist the
    events and sites of their school."""
    return await staff_service.scope(repo, staff, role)


async def _in_scope(repo: Repo, item: Event | Site | None, staff: User, role: Role) -> bool:
    """May the staff member manage this event or site? (Re-checked on every callback.)"""
    if item is None:
        return False
    scope = await _scope(repo, staff, role)
    if isinstance(item, Site):
        return scope.allows(item.municipality_id, item.school_id)
    return await repo.staff.event_allowed(scope, item)


async def _home(repo: Repo, staff: User, role: Role) -> int | None:
    """The municipality what the staff member creates belongs to (`Scope.home_municipality`;
    a school methodist's: their school's)."""
    return (await _scope(repo, staff, role)).home_municipality(staff.municipality_id)


def _no_municipality() -> str:
    return _("Set your municipality in /profile first: events and sites belong to it.")


async def _typed(message: Message, markup: InlineKeyboardMarkup) -> str | None:
    """The text of an answer; a polite note for non-text messages (commands never get here)."""
    text = (message.text or "").strip()
    if not text:
        await message.answer(_("Please answer with a text message."), reply_markup=markup)
        return None
    return text


# ------------------------------------------------------------------ answers shared by wizards and edits
# Each reader returns the value, or the polite re-ask (in the current language) for a bad answer.


def _title_problem(text: str) -> str | None:
    if fits(text, TITLE_MIN, TITLE_MAX):
        return None
    return _("The title should be 3 to 200 characters long. Please send it again.")


def _description_problem(text: str) -> str | None:
    if len(text) <= DESCRIPTION_MAX:
        return None
    return _("The description is too long: up to 2000 characters, please.")


def _read_start(text: str, tz: tzinfo, now: datetime) -> datetime | str:
    """A moment typed in the staff member's zone `tz` that must come after `now`; else the
    problem."""
    starts_at = parse_local(text, tz)
    if starts_at is None:
        return _(
            "I could not read this date. Please send it as DD.MM.YYYY HH:MM, e.g. 15.10.2026 10:00."
        )
    if starts_at <= now:
        return _("This moment has already passed. Please send a date and time in the future.")
    return starts_at


def _read_end(text: str, starts_at: datetime, tz: tzinfo) -> datetime | str:
    ends_at = parse_end(text, starts_at, tz)
    if ends_at is None:
        return _("I could not read this time. Please send HH:MM (e.g. 12:30) or DD.MM.YYYY HH:MM.")
    if ends_at <= starts_at:
        return _("The end must be after the start ({start}). Please send it again.").format(
            start=local_text(starts_at, tz)
        )
    return ends_at


def _read_place(text: str) -> tuple[str, str] | str:
    """(address, link), or the re-ask."""
    if not fits(text, PLACE_MIN, PLACE_MAX):
        return _("The address or link should be 3 to 300 characters long. Please send it again.")
    return split_place(text)


def _contact_problem(text: str) -> str | None:
    if fits(text, CONTACT_MIN, CONTACT_MAX):
        return None
    return _("The contact should be 3 to 200 characters long. Please send it again.")


def _read_modules(text: str) -> list[tuple[str, int]] | str:
    try:
        modules = parse_modules(text)
    except BadModuleLine as exc:
        return _(
            "Line {n} («{line}») is not «Title — hours» with 1 to 200 hours. "
            "Please send the whole list again."
        ).format(n=exc.number, line=h(exc.line[:100]))
    if not MODULES_MIN <= len(modules) <= MODULES_MAX:
        return _("The programme should have 1 to 20 modules. Please send the list again.")
    return modules


def _start_question() -> str:
    return _(
        "When does it start? Send the date and time as DD.MM.YYYY HH:MM, e.g. 15.10.2026 10:00."
    )


def _end_question() -> str:
    return _("When does it end? Send HH:MM for the same day, or DD.MM.YYYY HH:MM.")


def _place_question() -> str:
    return _("Where? Send the address, or a link (https://…) for an online event.")


def _modules_question() -> str:
    return _(
        "The programme: one module per line, its title and hours, e.g.\n"
        "<code>Lesson study — 6</code>\n<code>Formative assessment — 8</code>\n"
        "1 to 20 modules, 1 to 200 hours each."
    )


def _modules_lines(modules: Sequence[tuple[str, int]]) -> list[str]:
    return [f"• {h(title)} — {hours}" for title, hours in modules]


def _competency_titles(framework: Framework | None, codes: Sequence[str], lang: str) -> str:
    if not codes:
        return "—"
    titles = {c.code: c.title.text(lang) for c in framework.competencies} if framework else {}
    return ", ".join(h(titles.get(code, code)) for code in codes)


def _toggle(chosen: Sequence[str], code: str) -> list[str]:
    return [c for c in chosen if c != code] if code in chosen else [*chosen, code]


# ------------------------------------------------------------------ the wizards' shared parts


@dataclass(frozen=True, slots=True)
class Ctx:
    """What the wizard steps need besides the answers so far."""

    repo: Repo
    staff: User
    role: Role
    #: the staff member's time zone: times are asked and shown in it
    tz: tzinfo


def _now_line(value: str) -> str:
    """The current answer under a question asked again after ⬅️ Back (`value` is escaped)."""
    return "\n\n" + _("Now: {value}\nSend a new answer, or tap ➡️ Keep.").format(value=value)


def _kept(data: dict[str, Any], key: str, show_value: Callable[[Any], str]) -> str:
    return _now_line(show_value(data[key])) if key in data else ""


async def _wizard_text(
    message: Message, state: FSMContext, ctx: Ctx, wizard: Wizard[Ctx]
) -> str | None:
    """The typed answer of a wizard step; a polite note (and the step's buttons) otherwise."""
    text = (message.text or "").strip()
    if not text:
        await wizard.retry(message, state, ctx, _("Please answer with a text message."))
        return None
    return text


async def _typed_step(
    message: Message,
    state: FSMContext,
    ctx: Ctx,
    wizard: Wizard[Ctx],
    key: str,
    problem: Callable[[str], str | None],
    value: Callable[[str], object] = str,
) -> None:
    """A typed answer of a wizard step: checked, stored under `key`, then the next step."""
    text = await _wizard_text(message, state, ctx, wizard)
    if text is None:
        return
    trouble = problem(text)
    if trouble is not None:
        await wizard.retry(message, state, ctx, trouble)
        return
    await state.update_data({key: value(text)})
    await wizard.advance(message, state, ctx)


async def _wizard_nav(
    query: CallbackQuery, state: FSMContext, ctx: Ctx, wizard: Wizard[Ctx], action: str, step: str
) -> None:
    """⬅️ Back or ➡️ Keep on a wizard step."""
    if action == WizardNav.BACK:
        await wizard.back(query, state, ctx, step)
    else:
        await wizard.keep(query, state, ctx, step)


async def wizard_cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await show(query, _("Cancelled. Nothing was saved."))


def _competency_rows(
    framework: Framework | None,
    chosen: Sequence[str],
    lang: str,
    make: Callable[[str, str], CallbackData],
) -> Rows:
    rows: Rows = []
    for comp in framework.competencies if framework else ():
        mark = "✅ " if comp.code in chosen else ""
        rows.append([button(mark + comp.title.text(lang), make("comp", comp.code))])
    rows.append([button(_("Done"), make("done", ""))])
    return rows


def _mark(chosen: bool) -> str:
    return "✅ " if chosen else ""


# ------------------------------------------------------------------ forms: refusals and re-checks


async def use_buttons(message: Message) -> None:
    await message.answer(_("Please choose with the buttons above, or tap ✖️ Cancel."))


async def _form_event(state: FSMContext, repo: Repo, staff: User, role: Role) -> Event | None:
    event = await repo.events.get(int((await state.get_data()).get("event", 0)))
    return event if await _in_scope(repo, event, staff, role) else None


def _where_text(event: Event) -> str:
    return h(" · ".join(part for part in (event.place, event.online_url) if part) or "—")


def notified_text(n: int) -> str:
    """What the organiser is told after a change that its participants must hear of."""
    return ngettext(
        "{n} participant will be notified of the change.",
        "{n} participants will be notified of the change.",
        n,
    ).format(n=n)
