"""Coordinators manage events and internship sites: `/newevent` and `/newsite` wizards,
`/myevents` with the event admin card (participants, attendance, CSV, messages, check-in QR,
capacity, editing, cancellation) and `/mysites` with the site card (editing the title,
description, contact and modules). Scoped to the coordinator's municipality; admins see
everything.

Every callback carries only ids and re-checks on the server that the event belongs to the
coordinator's municipality. The small parsing helpers at the top are pure (no aiogram) and
unit-tested in tests/unit/test_event_admin_rules.py.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.qr import qr_png
from db.models import Event, Registration, Site, User
from db.repo import Repo
from domain.checkin import checkin_payload, new_code
from domain.events import FEEDBACK_AFTER, REMIND_BEFORE, EventKind, EventStatus, RegStatus
from domain.framework import Framework
from domain.pagination import paginate
from domain.roles import Role
from domain.typography import quoted, shorten
from handlers.common import button, h, notify_user, pager_row, rows, show
from handlers.events import notify_offer
from handlers.filters import RoleFilter

log = logging.getLogger(__name__)

# ------------------------------------------------------------------ pure rules

DATE_FORMAT = "%d.%m.%Y %H:%M"
TITLE_MIN, TITLE_MAX = 3, 200
DESCRIPTION_MAX = 2000
PLACE_MIN, PLACE_MAX = 3, 300
CAPACITY_MIN, CAPACITY_MAX = 1, 10000
CONTACT_MIN, CONTACT_MAX = 3, 200
MODULE_HOURS_MIN, MODULE_HOURS_MAX = 1, 200
MODULES_MIN, MODULES_MAX = 1, 20
MESSAGE_MAX = 1000
SKIP = "-"
SCHOOLS_PER_PAGE = 10
ATTENDANCE_BUTTONS = 30
SHOWN_SINCE = timedelta(days=30)
SITE_CODE_PREFIX_MAX = 22  # site-<22>-<4 digits> fits Site.code (32)
SITES_PER_PAGE = 10

_WHOLE_RE = re.compile(r"[0-9]{1,9}")
_MODULE_RE = re.compile(r"^(?P<title>.*\S)\s*[—–|-]\s*(?P<hours>[0-9]{1,4})\s*$")


def parse_local(text: str, tz: tzinfo) -> datetime | None:
    """ "DD.MM.YYYY HH:MM" in the local zone, as an aware UTC datetime; None if malformed."""
    try:
        naive = datetime.strptime(" ".join(text.split()), DATE_FORMAT)
    except ValueError:
        return None
    return naive.replace(tzinfo=tz).astimezone(UTC)


def parse_end(text: str, starts_at: datetime, tz: tzinfo) -> datetime | None:
    """The end: "HH:MM" on the start's local day, or a full "DD.MM.YYYY HH:MM"."""
    value = " ".join(text.split())
    try:
        clock = datetime.strptime(value, "%H:%M").time()
    except ValueError:
        return parse_local(value, tz)
    day = starts_at.astimezone(tz).date()
    return datetime.combine(day, clock).replace(tzinfo=tz).astimezone(UTC)


def split_place(text: str) -> tuple[str, str]:
    """(address, online link): a text starting with http(s):// is the link."""
    value = text.strip()
    if value.lower().startswith(("http://", "https://")):
        return "", value
    return value, ""


def parse_whole(text: str, low: int, high: int) -> int | None:
    value = text.strip()
    if not _WHOLE_RE.fullmatch(value):
        return None
    number = int(value)
    return number if low <= number <= high else None


def fits(text: str, low: int, high: int) -> bool:
    return low <= len(text) <= high


class BadModuleLine(ValueError):
    """A module line that is not "Title — hours" (1-based line number among non-empty lines)."""

    def __init__(self, number: int, line: str) -> None:
        super().__init__(f"line {number}: {line!r}")
        self.number = number
        self.line = line


def parse_modules(text: str) -> list[tuple[str, int]]:
    """Lines "Module title — 6" (separator —, -, | ; hours 1..200) → [(title, hours)]."""
    modules: list[tuple[str, int]] = []
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for number, line in enumerate(lines, start=1):
        match = _MODULE_RE.match(line)
        if match is None:
            raise BadModuleLine(number, line)
        title = " ".join(match.group("title").split())
        hours = int(match.group("hours"))
        if not title or len(title) > TITLE_MAX:
            raise BadModuleLine(number, line)
        if not MODULE_HOURS_MIN <= hours <= MODULE_HOURS_MAX:
            raise BadModuleLine(number, line)
        modules.append((title, hours))
    return modules


def site_code(municipality_code: str, number: int) -> str:
    return f"site-{municipality_code[:SITE_CODE_PREFIX_MAX]}-{number}"


def local_text(value: datetime, tz: tzinfo) -> str:
    return value.astimezone(tz).strftime(DATE_FORMAT)


def when_text(starts_at: datetime, ends_at: datetime, tz: tzinfo) -> str:
    """ "12.12.2026 10:00–12:30", or both full dates when the event spans days."""
    start, end = starts_at.astimezone(tz), ends_at.astimezone(tz)
    if start.date() == end.date():
        return f"{start.strftime(DATE_FORMAT)}–{end.strftime('%H:%M')}"
    return f"{start.strftime(DATE_FORMAT)} – {end.strftime(DATE_FORMAT)}"


def _now() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------ labels


def kind_label(kind: str) -> str:
    labels: dict[str, str] = {
        EventKind.INTERNSHIP: _("Internship session"),
        EventKind.MASTERCLASS: _("Master-class"),
        EventKind.SEMINAR: _("Seminar"),
        EventKind.WEBINAR: _("Webinar"),
        EventKind.OPEN_LESSON: _("Open lesson"),
        EventKind.WORKSHOP: _("Pedagogical workshop"),
    }
    return labels.get(kind, kind)


def event_status_label(status: str) -> str:
    labels: dict[str, str] = {
        EventStatus.SCHEDULED: _("scheduled"),
        EventStatus.CANCELLED: _("cancelled"),
        EventStatus.COMPLETED: _("completed"),
    }
    return labels.get(status, status)


def reg_status_label(status: str, *, ended: bool = False) -> str:
    """`ended`: after the event a confirmed registration without attendance is a no-show."""
    if ended and status == RegStatus.CONFIRMED.value:
        return _("no-show")
    labels: dict[str, str] = {
        RegStatus.CONFIRMED: _("confirmed"),
        RegStatus.OFFERED: _("seat offered"),
        RegStatus.WAITLISTED: _("waitlist"),
        RegStatus.ATTENDED: _("attended"),
        RegStatus.CANCELLED: _("cancelled"),
    }
    return labels.get(status, status)


# ------------------------------------------------------------------ callback data and states


class NewEventCb(CallbackData, prefix="evn"):
    action: str  # kind | comp | done | site | aud | publish | cancel
    value: str = ""


class NewSiteCb(CallbackData, prefix="stn"):
    action: str  # school | page | skip | comp | done | create | cancel
    value: str = ""


class EventAdminCb(CallbackData, prefix="eadm"):
    action: str  # list | card | people | att | csv | msg | qr | cap | edit | cancel | cancel_yes
    event: int = 0
    reg: int = 0


class AdminFormCb(CallbackData, prefix="eadf"):
    action: str  # cancel


class EventEditCb(CallbackData, prefix="eedt"):
    field: str  # title | description | when | place | deadline | cancel (back to the card)
    event: int


class SiteAdminCb(CallbackData, prefix="sadm"):
    action: str  # list | card | title | description | contact | modules | cancel
    site: int = 0
    page: int = 0


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


def _markup(buttons: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=buttons)


def _event_cancel() -> InlineKeyboardMarkup:
    return _markup([[button(_("✖️ Cancel"), NewEventCb(action="cancel"))]])


def _site_cancel() -> InlineKeyboardMarkup:
    return _markup([[button(_("✖️ Cancel"), NewSiteCb(action="cancel"))]])


def _form_cancel() -> InlineKeyboardMarkup:
    return _markup([[button(_("✖️ Cancel"), AdminFormCb(action="cancel"))]])


def _edit_cancel(event_id: int) -> InlineKeyboardMarkup:
    return _markup([[button(_("✖️ Cancel"), EventEditCb(field="cancel", event=event_id))]])


def _site_edit_cancel(site_id: int) -> InlineKeyboardMarkup:
    return _markup([[button(_("✖️ Cancel"), SiteAdminCb(action="cancel", site=site_id))]])


def _scope(staff: User, role: Role) -> int | None:
    """Admins see every municipality; a coordinator only their own."""
    return None if role is Role.ADMIN else staff.municipality_id


def _in_scope(event: Event | Site | None, staff: User, role: Role) -> bool:
    if event is None:
        return False
    return role is Role.ADMIN or event.municipality_id == staff.municipality_id


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


def _read_start(text: str, tz: tzinfo) -> datetime | str:
    starts_at = parse_local(text, tz)
    if starts_at is None:
        return _(
            "I could not read this date. Please send it as DD.MM.YYYY HH:MM, e.g. 15.10.2026 10:00."
        )
    if starts_at <= _now():
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


def _competency_keyboard(
    framework: Framework | None,
    chosen: Sequence[str],
    lang: str,
    make: Callable[[str, str], CallbackData],
    cancel: CallbackData,
) -> InlineKeyboardMarkup:
    buttons: list[list[InlineKeyboardButton]] = []
    for comp in framework.competencies if framework else ():
        mark = "✅ " if comp.code in chosen else ""
        buttons.append([button(mark + comp.title.text(lang), make("comp", comp.code))])
    buttons.append([button(_("Done"), make("done", "")), button(_("✖️ Cancel"), cancel)])
    return _markup(buttons)


def _competency_titles(framework: Framework | None, codes: Sequence[str], lang: str) -> str:
    if not codes:
        return "—"
    titles = {c.code: c.title.text(lang) for c in framework.competencies} if framework else {}
    return ", ".join(h(titles.get(code, code)) for code in codes)


def _toggle(chosen: Sequence[str], code: str) -> list[str]:
    return [c for c in chosen if c != code] if code in chosen else [*chosen, code]


# ------------------------------------------------------------------ /newevent


async def cmd_newevent(message: Message, state: FSMContext, staff: User) -> None:
    if staff.municipality_id is None:
        await message.answer(_no_municipality())
        return
    await state.clear()
    await state.set_state(EventForm.kind)
    kinds = [button(kind_label(k), NewEventCb(action="kind", value=k.value)) for k in EventKind]
    await message.answer(
        _("🗓 <b>New event</b>\n\nWhat kind of event is it?"),
        reply_markup=_markup(
            [*rows(kinds, 2), [button(_("✖️ Cancel"), NewEventCb(action="cancel"))]]
        ),
    )


async def event_cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await show(query, _("Cancelled. Nothing was saved."))


async def event_kind(query: CallbackQuery, callback_data: NewEventCb, state: FSMContext) -> None:
    if callback_data.value not in set(EventKind):
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    await state.update_data(kind=callback_data.value)
    await state.set_state(EventForm.title)
    await show(
        query,
        _("{kind}. What is the title of the event? (3 to 200 characters)").format(
            kind=kind_label(callback_data.value)
        ),
        _event_cancel(),
    )


async def event_title(message: Message, state: FSMContext) -> None:
    text = await _typed(message, _event_cancel())
    if text is None:
        return
    problem = _title_problem(text)
    if problem is not None:
        await message.answer(problem, reply_markup=_event_cancel())
        return
    await state.update_data(title=text)
    await state.set_state(EventForm.description)
    await message.answer(
        _("A short description for teachers (up to 2000 characters), or «-» to skip."),
        reply_markup=_event_cancel(),
    )


async def event_description(message: Message, state: FSMContext) -> None:
    text = await _typed(message, _event_cancel())
    if text is None:
        return
    problem = _description_problem(text)
    if problem is not None:
        await message.answer(problem, reply_markup=_event_cancel())
        return
    await state.update_data(description="" if text == SKIP else text)
    await state.set_state(EventForm.starts)
    await message.answer(_start_question(), reply_markup=_event_cancel())


async def event_starts(message: Message, state: FSMContext, settings: Settings) -> None:
    text = await _typed(message, _event_cancel())
    if text is None:
        return
    starts_at = _read_start(text, settings.tz)
    if isinstance(starts_at, str):
        await message.answer(starts_at, reply_markup=_event_cancel())
        return
    await state.update_data(starts=starts_at.isoformat())
    await state.set_state(EventForm.ends)
    await message.answer(_end_question(), reply_markup=_event_cancel())


async def event_ends(message: Message, state: FSMContext, settings: Settings) -> None:
    text = await _typed(message, _event_cancel())
    if text is None:
        return
    starts_at = datetime.fromisoformat(str((await state.get_data())["starts"]))
    ends_at = _read_end(text, starts_at, settings.tz)
    if isinstance(ends_at, str):
        await message.answer(ends_at, reply_markup=_event_cancel())
        return
    await state.update_data(ends=ends_at.isoformat())
    await state.set_state(EventForm.place)
    await message.answer(_place_question(), reply_markup=_event_cancel())


async def event_place(message: Message, state: FSMContext) -> None:
    text = await _typed(message, _event_cancel())
    if text is None:
        return
    read = _read_place(text)
    if isinstance(read, str):
        await message.answer(read, reply_markup=_event_cancel())
        return
    place, url = read
    await state.update_data(place=place, url=url)
    await state.set_state(EventForm.capacity)
    await message.answer(
        _("How many seats? Send a whole number from 1 to 10000."), reply_markup=_event_cancel()
    )


async def event_capacity(message: Message, state: FSMContext, repo: Repo, staff: User) -> None:
    text = await _typed(message, _event_cancel())
    if text is None:
        return
    capacity = parse_whole(text, CAPACITY_MIN, CAPACITY_MAX)
    if capacity is None:
        await message.answer(
            _("Please send a whole number from 1 to 10000."), reply_markup=_event_cancel()
        )
        return
    await state.update_data(capacity=capacity, comps=[])
    await state.set_state(EventForm.competencies)
    framework = await repo.frameworks.active()
    await message.answer(
        _(
            "Which competencies does it develop? Tap to mark them, then «Done». You may choose none."
        ),
        reply_markup=_competency_keyboard(
            framework,
            [],
            staff.language,
            lambda action, value: NewEventCb(action=action, value=value),
            NewEventCb(action="cancel"),
        ),
    )


async def event_comp(
    query: CallbackQuery, callback_data: NewEventCb, state: FSMContext, repo: Repo, staff: User
) -> None:
    framework = await repo.frameworks.active()
    codes = {c.code for c in framework.competencies} if framework else set()
    if callback_data.value not in codes:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    chosen = _toggle(list((await state.get_data()).get("comps", [])), callback_data.value)
    await state.update_data(comps=chosen)
    await show(
        query,
        _(
            "Which competencies does it develop? Tap to mark them, then «Done». You may choose none."
        ),
        _competency_keyboard(
            framework,
            chosen,
            staff.language,
            lambda action, value: NewEventCb(action=action, value=value),
            NewEventCb(action="cancel"),
        ),
    )


async def event_comp_done(query: CallbackQuery, state: FSMContext, repo: Repo, staff: User) -> None:
    sites = await repo.events.sites(staff.municipality_id) if staff.municipality_id else []
    buttons = [
        [button(shorten(s.title, 60), NewEventCb(action="site", value=str(s.id)))] for s in sites
    ]
    buttons.append([button(_("No site"), NewEventCb(action="site", value="0"))])
    buttons.append([button(_("✖️ Cancel"), NewEventCb(action="cancel"))])
    await state.set_state(EventForm.site)
    await show(query, _("Is it held at an internship site?"), _markup(buttons))


async def event_site(
    query: CallbackQuery,
    callback_data: NewEventCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    settings: Settings,
) -> None:
    site_id = int(callback_data.value) if callback_data.value.isdigit() else -1
    if site_id != 0:
        site = await repo.events.site(site_id) if site_id > 0 else None
        if site is None or site.municipality_id != staff.municipality_id:
            await query.answer(_("This button is out of date."), show_alert=True)
            return
    await state.update_data(site=site_id or None, region=False)
    if role is Role.ADMIN:
        await state.set_state(EventForm.audience)
        await show(
            query,
            _("Who is it for?"),
            _markup(
                [
                    [button(_("My municipality"), NewEventCb(action="aud", value="muni"))],
                    [button(_("Whole region"), NewEventCb(action="aud", value="region"))],
                    [button(_("✖️ Cancel"), NewEventCb(action="cancel"))],
                ]
            ),
        )
        return
    await _event_summary(query, state, repo, staff, settings)


async def event_audience(
    query: CallbackQuery,
    callback_data: NewEventCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    settings: Settings,
) -> None:
    if callback_data.value not in ("muni", "region") or (
        callback_data.value == "region" and role is not Role.ADMIN
    ):
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    await state.update_data(region=callback_data.value == "region")
    await _event_summary(query, state, repo, staff, settings)


async def _event_summary(
    query: CallbackQuery, state: FSMContext, repo: Repo, staff: User, settings: Settings
) -> None:
    data = await state.get_data()
    starts_at = datetime.fromisoformat(str(data["starts"]))
    ends_at = datetime.fromisoformat(str(data["ends"]))
    site = await repo.events.site(int(data["site"])) if data.get("site") else None
    framework = await repo.frameworks.active()
    lines = [
        _("🗓 <b>Check the event before publishing</b>"),
        "",
        f"<b>{h(data['title'])}</b> · {kind_label(str(data['kind']))}",
        _("When: {when}").format(when=when_text(starts_at, ends_at, settings.tz)),
        _("Where: {place}").format(place=h(data.get("place") or data.get("url") or "—")),
        _("Seats: {capacity}").format(capacity=data["capacity"]),
        _("Competencies: {titles}").format(
            titles=_competency_titles(framework, list(data.get("comps", [])), staff.language)
        ),
        _("Site: {site}").format(site=h(site.title) if site else "—"),
        _("Audience: {audience}").format(
            audience=_("Whole region") if data.get("region") else _("My municipality")
        ),
    ]
    if data.get("description"):
        lines += ["", h(data["description"])]
    await state.set_state(EventForm.confirm)
    await show(
        query,
        "\n".join(lines)[:4000],
        _markup(
            [
                [
                    button(_("✅ Publish"), NewEventCb(action="publish")),
                    button(_("✖️ Cancel"), NewEventCb(action="cancel")),
                ]
            ]
        ),
    )


async def event_publish(
    query: CallbackQuery, state: FSMContext, repo: Repo, staff: User, role: Role
) -> None:
    if staff.municipality_id is None:
        await state.clear()
        await show(query, _no_municipality())
        return
    data = await state.get_data()
    starts_at = datetime.fromisoformat(str(data["starts"]))
    ends_at = datetime.fromisoformat(str(data["ends"]))
    now = _now()
    if starts_at <= now:
        await state.set_state(EventForm.starts)
        await show(
            query,
            _(
                "The start time has passed while the form was open. Please send a new start as DD.MM.YYYY HH:MM."
            ),
            _event_cancel(),
        )
        return
    event = await repo.events.add_event(
        Event(
            kind=str(data["kind"]),
            title=str(data["title"]),
            description=str(data.get("description", "")),
            competencies=list(data.get("comps", [])),
            site_id=data.get("site") or None,
            municipality_id=staff.municipality_id,
            region_wide=bool(data.get("region")) and role is Role.ADMIN,
            starts_at=starts_at,
            ends_at=ends_at,
            place=str(data.get("place", "")),
            online_url=str(data.get("url", "")),
            capacity=int(data["capacity"]),
            status=EventStatus.SCHEDULED.value,
            organiser_id=staff.id,
            checkin_code=new_code(),
        )
    )
    if starts_at - REMIND_BEFORE > now:
        await repo.jobs.schedule("event_reminder", starts_at - REMIND_BEFORE, event_id=event.id)
    await repo.jobs.schedule("feedback_request", ends_at + FEEDBACK_AFTER, event_id=event.id)
    await repo.audit.record("event_created", actor=staff, event_id=event.id)
    await state.clear()
    await show(
        query,
        _("✅ Published: <b>{title}</b>. Teachers can sign up now.").format(title=h(event.title)),
        _markup([[button(_("Open the event card"), EventAdminCb(action="card", event=event.id))]]),
    )


async def use_buttons(message: Message) -> None:
    await message.answer(_("Please choose with the buttons above, or tap ✖️ Cancel."))


# ------------------------------------------------------------------ /newsite


async def cmd_newsite(message: Message, state: FSMContext, staff: User) -> None:
    if staff.municipality_id is None:
        await message.answer(_no_municipality())
        return
    await state.clear()
    await state.set_state(SiteForm.title)
    await message.answer(
        _("🏫 <b>New internship site</b>\n\nWhat is the site called? (3 to 200 characters)"),
        reply_markup=_site_cancel(),
    )


async def site_cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await show(query, _("Cancelled. Nothing was saved."))


async def site_title(message: Message, state: FSMContext) -> None:
    text = await _typed(message, _site_cancel())
    if text is None:
        return
    problem = _title_problem(text)
    if problem is not None:
        await message.answer(problem, reply_markup=_site_cancel())
        return
    await state.update_data(title=text)
    await state.set_state(SiteForm.topic)
    await message.answer(
        _("What is its topic (direction)? 3 to 200 characters."), reply_markup=_site_cancel()
    )


async def _ask_school(
    event: Message | CallbackQuery, repo: Repo, staff: User, page: int = 0
) -> None:
    assert staff.municipality_id is not None
    schools = await repo.reference.schools(staff.municipality_id)
    current = paginate(schools, page, SCHOOLS_PER_PAGE)
    buttons = rows(
        [
            button(shorten(s.short_name, 40), NewSiteCb(action="school", value=str(s.id)))
            for s in current.items
        ],
        2,
    )
    pager = pager_row(current, lambda p: NewSiteCb(action="page", value=str(p)))
    if pager:
        buttons.append(pager)
    buttons.append(
        [
            button(_("Skip"), NewSiteCb(action="skip")),
            button(_("✖️ Cancel"), NewSiteCb(action="cancel")),
        ]
    )
    await show(event, _("Which school hosts the site?"), _markup(buttons))


async def site_topic(message: Message, state: FSMContext, repo: Repo, staff: User) -> None:
    text = await _typed(message, _site_cancel())
    if text is None:
        return
    if not fits(text, TITLE_MIN, TITLE_MAX):
        await message.answer(
            _("The topic should be 3 to 200 characters long. Please send it again."),
            reply_markup=_site_cancel(),
        )
        return
    if staff.municipality_id is None:
        await state.clear()
        await message.answer(_no_municipality())
        return
    await state.update_data(topic=text)
    await state.set_state(SiteForm.school)
    await _ask_school(message, repo, staff)


async def site_school_page(
    query: CallbackQuery, callback_data: NewSiteCb, repo: Repo, staff: User
) -> None:
    page = int(callback_data.value) if callback_data.value.isdigit() else 0
    await _ask_school(query, repo, staff, page)


async def _ask_site_competencies(
    query: CallbackQuery, state: FSMContext, repo: Repo, staff: User
) -> None:
    chosen = list((await state.get_data()).get("comps", []))
    await state.set_state(SiteForm.competencies)
    await show(
        query,
        _("Which competencies does the site develop? Tap to mark at least one, then «Done»."),
        _competency_keyboard(
            await repo.frameworks.active(),
            chosen,
            staff.language,
            lambda action, value: NewSiteCb(action=action, value=value),
            NewSiteCb(action="cancel"),
        ),
    )


async def site_school(
    query: CallbackQuery, callback_data: NewSiteCb, state: FSMContext, repo: Repo, staff: User
) -> None:
    school_id: int | None = None
    if callback_data.action == "school":
        school = (
            await repo.reference.school(int(callback_data.value))
            if callback_data.value.isdigit()
            else None
        )
        if school is None or school.municipality_id != staff.municipality_id:
            await query.answer(_("This button is out of date."), show_alert=True)
            return
        school_id = school.id
    await state.update_data(school=school_id, comps=[])
    await _ask_site_competencies(query, state, repo, staff)


async def site_comp(
    query: CallbackQuery, callback_data: NewSiteCb, state: FSMContext, repo: Repo, staff: User
) -> None:
    framework = await repo.frameworks.active()
    codes = {c.code for c in framework.competencies} if framework else set()
    if callback_data.value not in codes:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    chosen = _toggle(list((await state.get_data()).get("comps", [])), callback_data.value)
    await state.update_data(comps=chosen)
    await _ask_site_competencies(query, state, repo, staff)


async def site_comp_done(query: CallbackQuery, state: FSMContext) -> None:
    if not (await state.get_data()).get("comps"):
        await query.answer(_("Choose at least one competency."), show_alert=True)
        return
    await state.set_state(SiteForm.description)
    await show(
        query,
        _("A description for teachers (up to 2000 characters), or «-» to skip."),
        _site_cancel(),
    )


async def site_description(message: Message, state: FSMContext) -> None:
    text = await _typed(message, _site_cancel())
    if text is None:
        return
    problem = _description_problem(text)
    if problem is not None:
        await message.answer(problem, reply_markup=_site_cancel())
        return
    await state.update_data(description="" if text == SKIP else text)
    await state.set_state(SiteForm.contact)
    await message.answer(
        _("Contact person: a name and a phone or e-mail (3 to 200 characters)."),
        reply_markup=_site_cancel(),
    )


async def site_contact(message: Message, state: FSMContext) -> None:
    text = await _typed(message, _site_cancel())
    if text is None:
        return
    problem = _contact_problem(text)
    if problem is not None:
        await message.answer(problem, reply_markup=_site_cancel())
        return
    await state.update_data(contact=text)
    await state.set_state(SiteForm.modules)
    await message.answer(_modules_question(), reply_markup=_site_cancel())


async def site_modules(
    message: Message, state: FSMContext, repo: Repo, staff: User, settings: Settings
) -> None:
    text = await _typed(message, _site_cancel())
    if text is None:
        return
    modules = _read_modules(text)
    if isinstance(modules, str):
        await message.answer(modules, reply_markup=_site_cancel())
        return
    await state.update_data(modules=[[title, hours] for title, hours in modules])
    await state.set_state(SiteForm.confirm)
    data = await state.get_data()
    school = await repo.reference.school(int(data["school"])) if data.get("school") else None
    framework = await repo.frameworks.active()
    lines = [
        _("🏫 <b>Check the site before creating it</b>"),
        "",
        f"<b>{h(data['title'])}</b>",
        _("Topic: {topic}").format(topic=h(data["topic"])),
        _("School: {school}").format(school=h(school.name) if school else "—"),
        _("Competencies: {titles}").format(
            titles=_competency_titles(framework, list(data.get("comps", [])), staff.language)
        ),
        _("Contact: {contact}").format(contact=h(data["contact"])),
        _("Programme:"),
        *_modules_lines(modules),
    ]
    if data.get("description"):
        lines += ["", h(data["description"])]
    await message.answer(
        "\n".join(lines)[:4000],
        reply_markup=_markup(
            [
                [
                    button(_("✅ Create"), NewSiteCb(action="create")),
                    button(_("✖️ Cancel"), NewSiteCb(action="cancel")),
                ]
            ]
        ),
    )


async def site_create(query: CallbackQuery, state: FSMContext, repo: Repo, staff: User) -> None:
    if staff.municipality_id is None:
        await state.clear()
        await show(query, _no_municipality())
        return
    municipality = await repo.reference.municipality(staff.municipality_id)
    assert municipality is not None
    data = await state.get_data()
    existing = await repo.events.sites(staff.municipality_id)
    number = len(existing) + 1
    while await repo.events.site_by_code(site_code(municipality.code, number)) is not None:
        number += 1
    site = await repo.events.add_site(
        Site(
            code=site_code(municipality.code, number),
            municipality_id=staff.municipality_id,
            school_id=data.get("school") or None,
            title=str(data["title"]),
            topic=str(data["topic"]),
            competencies=list(data.get("comps", [])),
            description=str(data.get("description", "")),
            contact=str(data["contact"]),
            modules=[{"title": str(t), "hours": int(n)} for t, n in data.get("modules", [])],
        )
    )
    await repo.audit.record("site_created", actor=staff, site_id=site.id)
    await state.clear()
    await show(
        query,
        _("✅ Site created: <b>{title}</b> (code {code}). Add its sessions with /newevent.").format(
            title=h(site.title), code=h(site.code)
        ),
    )


# ------------------------------------------------------------------ /myevents and the card


async def _events_list(
    event: Message | CallbackQuery, repo: Repo, staff: User, role: Role, settings: Settings
) -> None:
    if role is not Role.ADMIN and staff.municipality_id is None:
        await show(event, _no_municipality())
        return
    events = await repo.events.of_municipality(_scope(staff, role), _now() - SHOWN_SINCE)
    if not events:
        await show(event, _("No events yet. Create one with /newevent."))
        return
    buttons = []
    for item in events:
        mark = "🚫 " if item.status == EventStatus.CANCELLED.value else ""
        day = item.starts_at.astimezone(settings.tz).strftime("%d.%m")
        buttons.append(
            [
                button(
                    f"{mark}{day} · {shorten(item.title, 50)}",
                    EventAdminCb(action="card", event=item.id),
                )
            ]
        )
    await show(
        event,
        _("🗓 <b>Events</b> ({n}): choose one to manage it.").format(n=len(events)),
        _markup(buttons),
    )


async def cmd_myevents(
    message: Message, repo: Repo, staff: User, role: Role, settings: Settings
) -> None:
    await _events_list(message, repo, staff, role, settings)


async def _card(
    target: Message | CallbackQuery, event: Event, repo: Repo, settings: Settings, note: str = ""
) -> None:
    """The event admin card: edits the button's message, or answers a typed one; `note` (say,
    "✅ Saved.") goes on top."""
    taken = await repo.events.seats_taken(event.id)
    regs = await repo.events.participants(event.id)
    waiting = sum(1 for r in regs if r.status == RegStatus.WAITLISTED.value)
    where = (
        "🔗 " + h(event.online_url)
        if event.online_url and not event.place
        else "📍 " + h(event.place or "—")
    )
    if event.online_url and event.place:
        where += "\n🔗 " + h(event.online_url)
    lines = [
        *([note, ""] if note else []),
        f"<b>{h(event.title)}</b>",
        kind_label(event.kind),
        "🗓 " + when_text(event.starts_at, event.ends_at, settings.tz),
        where,
        _("Status: {status}").format(status=event_status_label(event.status)),
        _("🪑 Seats taken: {taken} of {capacity} · waitlist: {waiting}").format(
            taken=taken, capacity=event.capacity, waiting=waiting
        ),
        _("Check-in code: <code>{code}</code>").format(code=h(event.checkin_code)),
    ]
    if event.registration_deadline is not None:
        lines.insert(
            -1,
            _("⏳ Registration until {deadline}").format(
                deadline=local_text(event.registration_deadline, settings.tz)
            ),
        )
    active = event.status == EventStatus.SCHEDULED.value

    def cb(action: str) -> EventAdminCb:
        return EventAdminCb(action=action, event=event.id)

    buttons = [[button(_("👥 Participants"), cb("people")), button(_("📤 Export CSV"), cb("csv"))]]
    if active:
        buttons += [
            [button(_("✉️ Message participants"), cb("msg")), button(_("🔳 Check-in QR"), cb("qr"))],
            [button(_("✏️ Edit"), cb("edit"))],
            [
                button(_("🪑 Change capacity"), cb("cap")),
                button(_("🚫 Cancel event"), cb("cancel")),
            ],
        ]
    buttons.append([button(_("⬅️ Back"), cb("list"))])
    await show(target, "\n".join(lines), _markup(buttons))


async def _school_names(repo: Repo, regs: Sequence[Registration]) -> dict[int, str]:
    names: dict[int, str] = {}
    for school_id in {r.user.school_id for r in regs if r.user.school_id is not None}:
        school = await repo.reference.school(school_id)
        if school is not None:
            names[school_id] = school.name
    return names


def _person(reg: Registration, schools: dict[int, str]) -> str:
    name = h(reg.user.full_name or "—")
    school = schools.get(reg.user.school_id or 0)
    return f"{name} — {h(school)}" if school else name


async def _participants(query: CallbackQuery, event: Event, repo: Repo) -> None:
    regs = await repo.events.participants(event.id)
    schools = await _school_names(repo, regs)
    ended = event.ends_at <= _now()
    groups = (
        (RegStatus.CONFIRMED, _("🚷 No-show") if ended else _("✅ Confirmed")),
        (RegStatus.OFFERED, _("⏳ Seat offered")),
        (RegStatus.WAITLISTED, _("🕒 Waitlist")),
        (RegStatus.ATTENDED, _("🎓 Attended")),
        (RegStatus.CANCELLED, _("✖️ Cancelled")),
    )
    lines = [_("👥 <b>Participants</b> · {title}").format(title=h(event.title))]
    if not regs:
        lines.append(_("Nobody has signed up yet."))
    for status, heading in groups:
        members = [r for r in regs if r.status == status.value]
        if not members:
            continue
        lines += ["", f"<b>{heading}</b> ({len(members)})"]
        lines += [f"{n}. {_person(r, schools)}" for n, r in enumerate(members, start=1)]
    text = "\n".join(lines)
    if len(text) > 3800:
        text = text[:3800].rsplit("\n", 1)[0] + "\n" + _("… the full list is in the CSV export.")
    present = [r for r in regs if r.status in (RegStatus.CONFIRMED, RegStatus.ATTENDED)][
        :ATTENDANCE_BUTTONS
    ]
    toggles = [
        button(
            ("✅ " if r.status == RegStatus.ATTENDED.value else "⬜ ")
            + shorten(r.user.full_name or "—", 30),
            EventAdminCb(action="att", event=event.id, reg=r.id),
        )
        for r in present
    ]
    if toggles:
        text += "\n\n" + _("Tap a name to mark attendance.")
    buttons = rows(toggles, 2)
    buttons.append([button(_("⬅️ Back"), EventAdminCb(action="card", event=event.id))])
    await show(query, text, _markup(buttons))


async def _toggle_attendance(query: CallbackQuery, event: Event, reg_id: int, repo: Repo) -> None:
    reg = await repo.events.registration_by_id(reg_id)
    if (
        reg is None
        or reg.event_id != event.id
        or reg.status
        not in (
            RegStatus.CONFIRMED.value,
            RegStatus.ATTENDED.value,
        )
    ):
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    await repo.events.mark_attended(reg, _now(), attended=reg.status != RegStatus.ATTENDED.value)
    await _participants(query, event, repo)


def participants_csv(
    regs: Sequence[Registration], schools: dict[int, str], tz: tzinfo, *, ended: bool = False
) -> bytes:
    """UTF-8 with a BOM (Excel opens it right), ";" between columns."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [
            _("Full name"),
            _("School"),
            _("Status"),
            _("Queue number"),
            _("Attended at"),
            _("Feedback rating"),
            _("Feedback comment"),
        ]
    )
    for reg in regs:
        writer.writerow(
            [
                reg.user.full_name or "",
                schools.get(reg.user.school_id or 0, ""),
                reg_status_label(reg.status, ended=ended),
                reg.queue_no,
                local_text(reg.attended_at, tz) if reg.attended_at else "",
                reg.feedback_rating if reg.feedback_rating is not None else "",
                reg.feedback_comment or "",
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


async def _export(
    query: CallbackQuery, event: Event, repo: Repo, bot: Bot, settings: Settings
) -> None:
    regs = await repo.events.participants(event.id)
    ended = event.ends_at <= _now()
    data = participants_csv(regs, await _school_names(repo, regs), settings.tz, ended=ended)
    await query.answer()
    assert query.message is not None
    await bot.send_document(
        query.message.chat.id,
        BufferedInputFile(data, filename=f"participants-{event.id}.csv"),
        caption=_("📤 Participants of {title}").format(title=h(quoted(event.title))),
    )


async def _qr(query: CallbackQuery, event: Event, bot: Bot) -> None:
    username = (await bot.me()).username or ""
    link = f"https://t.me/{username}?start=" + checkin_payload(event.id, event.checkin_code)
    png = qr_png(link)
    await query.answer()
    assert query.message is not None
    spaced = " ".join(event.checkin_code)
    await bot.send_photo(
        query.message.chat.id,
        BufferedInputFile(png, filename=f"checkin-{event.id}.png"),
        caption=_(
            "🔳 Check-in · <b>{title}</b>\n\n"
            "Participants scan this code with the phone camera, or send\n"
            "<code>/checkin {code}</code>\n\nCode: <b>{spaced}</b>"
        ).format(title=h(event.title), code=h(event.checkin_code), spaced=h(spaced)),
    )


async def _ask_text(
    query: CallbackQuery, state: FSMContext, event: Event, bot: Bot, target: State, text: str
) -> None:
    await state.clear()
    await state.set_state(target)
    await state.update_data(event=event.id)
    await query.answer()
    assert query.message is not None
    await bot.send_message(query.message.chat.id, text, reply_markup=_form_cancel())


async def _ask_cancel(query: CallbackQuery, event: Event) -> None:
    await show(
        query,
        _("🚫 Cancel {title}? Everyone who signed up will be notified.").format(
            title=h(quoted(event.title))
        ),
        _markup(
            [
                [
                    button(_("✅ Yes, cancel"), EventAdminCb(action="cancel_yes", event=event.id)),
                    button(_("⬅️ No"), EventAdminCb(action="card", event=event.id)),
                ]
            ]
        ),
    )


async def _cancel_event(
    query: CallbackQuery,
    event: Event,
    repo: Repo,
    staff: User,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
) -> None:
    regs = await repo.events.cancel_event(event)
    when = when_text(event.starts_at, event.ends_at, settings.tz)

    def notice() -> str:
        return _(
            "🚫 The event {title} ({when}) has been cancelled. We are sorry; "
            "look for other events in the bot."
        ).format(title=h(quoted(event.title)), when=when)

    notified = 0
    for reg in regs:
        notified += await notify_user(bot, i18n, reg.user, notice)
    await repo.audit.record("event_cancelled", actor=staff, event_id=event.id, notified=notified)
    await show(
        query,
        ngettext(
            "🚫 {title} is cancelled. {n} participant was notified.",
            "🚫 {title} is cancelled. {n} participants were notified.",
            notified,
        ).format(title=h(quoted(event.title)), n=notified),
        _markup([[button(_("⬅️ Back"), EventAdminCb(action="list"))]]),
    )


async def on_event_admin(
    query: CallbackQuery,
    callback_data: EventAdminCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
) -> None:
    action = callback_data.action
    if action == "list":
        await _events_list(query, repo, staff, role, settings)
        return
    event = await repo.events.get(callback_data.event)
    if event is None or not _in_scope(event, staff, role):
        await query.answer(_("You cannot manage this event."), show_alert=True)
        return
    scheduled = event.status == EventStatus.SCHEDULED.value
    if action in ("msg", "qr", "cap", "edit", "cancel", "cancel_yes") and not scheduled:
        await query.answer(_("The event is cancelled or over."), show_alert=True)
        return
    if action == "card":
        await _card(query, event, repo, settings)
    elif action == "people":
        await _participants(query, event, repo)
    elif action == "att":
        await _toggle_attendance(query, event, callback_data.reg, repo)
    elif action == "csv":
        await _export(query, event, repo, bot, settings)
    elif action == "qr":
        await _qr(query, event, bot)
    elif action == "msg":
        await _ask_text(
            query,
            state,
            event,
            bot,
            EventAdminForm.message,
            _("✉️ Type the message for the participants of {title} (up to 1000 characters):").format(
                title=h(quoted(event.title))
            ),
        )
    elif action == "cap":
        await _ask_text(
            query,
            state,
            event,
            bot,
            EventAdminForm.capacity,
            _("🪑 Now {capacity} seats, {taken} taken. Send the new number of seats:").format(
                capacity=event.capacity, taken=await repo.events.seats_taken(event.id)
            ),
        )
    elif action == "edit":
        await _edit_menu(query, event)
    elif action == "cancel":
        await _ask_cancel(query, event)
    elif action == "cancel_yes":
        await _cancel_event(query, event, repo, staff, bot, i18n, settings)
    else:
        await query.answer(_("This button is out of date."), show_alert=True)


async def _form_event(state: FSMContext, repo: Repo, staff: User, role: Role) -> Event | None:
    event = await repo.events.get(int((await state.get_data()).get("event", 0)))
    return event if _in_scope(event, staff, role) else None


async def form_cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await show(query, _("Cancelled."))


async def got_participants_message(
    message: Message,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    bot: Bot,
    i18n: I18n,
) -> None:
    text = await _typed(message, _form_cancel())
    if text is None:
        return
    if len(text) > MESSAGE_MAX:
        await message.answer(
            _("Please send a text of up to 1000 characters."), reply_markup=_form_cancel()
        )
        return
    event = await _form_event(state, repo, staff, role)
    await state.clear()
    if event is None:
        await message.answer(_("You cannot manage this event."))
        return
    body = f"✉️ <b>{h(event.title)}</b>:\n\n{h(text)}"
    sent = failed = 0
    for reg in await repo.events.participants(event.id):
        if not RegStatus(reg.status).active or reg.user.telegram_id is None:
            continue
        if await notify_user(bot, i18n, reg.user, lambda: body):
            sent += 1
        else:
            failed += 1
    await repo.audit.record(
        "event_message", actor=staff, event_id=event.id, sent=sent, failed=failed
    )
    await message.answer(
        _("✉️ Sent to {sent}, could not reach {failed}.").format(sent=sent, failed=failed),
        reply_markup=_markup(
            [[button(_("⬅️ Back to the event"), EventAdminCb(action="card", event=event.id))]]
        ),
    )


async def got_capacity(
    message: Message,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
) -> None:
    text = await _typed(message, _form_cancel())
    if text is None:
        return
    capacity = parse_whole(text, CAPACITY_MIN, CAPACITY_MAX)
    if capacity is None:
        await message.answer(
            _("Please send a whole number from 1 to 10000."), reply_markup=_form_cancel()
        )
        return
    event = await _form_event(state, repo, staff, role)
    if event is None or event.status != EventStatus.SCHEDULED.value:
        await state.clear()
        await message.answer(_("You cannot manage this event."))
        return
    old = event.capacity
    offered = await repo.events.set_capacity(event.id, capacity, _now())
    if offered is None:
        taken = await repo.events.seats_taken(event.id)
        await message.answer(
            ngettext(
                "{n} seat is already taken, so the capacity cannot be lower. Please send {n} or more.",
                "{n} seats are already taken, so the capacity cannot be lower. Please send {n} or more.",
                taken,
            ).format(n=taken),
            reply_markup=_form_cancel(),
        )
        return
    await state.clear()
    for reg in offered:
        await notify_offer(bot, i18n, reg, repo, tz=settings.tz)
    await repo.audit.record(
        "event_capacity",
        actor=staff,
        event_id=event.id,
        old=old,
        new=capacity,
        offered=len(offered),
    )
    text = _("🪑 Capacity is now {capacity}.").format(capacity=capacity)
    if offered:
        text += " " + ngettext(
            "A seat was offered to {n} person from the waitlist.",
            "Seats were offered to {n} people from the waitlist.",
            len(offered),
        ).format(n=len(offered))
    await message.answer(
        text,
        reply_markup=_markup(
            [[button(_("⬅️ Back to the event"), EventAdminCb(action="card", event=event.id))]]
        ),
    )


# ------------------------------------------------------------------ editing an event

#: what registrants are told about: a change of any of these fields
NOTIFIED_FIELDS = frozenset({"starts_at", "ends_at", "place", "online_url"})


async def _edit_menu(query: CallbackQuery, event: Event) -> None:
    def cb(field: str) -> EventEditCb:
        return EventEditCb(field=field, event=event.id)

    await show(
        query,
        _("✏️ <b>Edit</b> {title}: what would you like to change?").format(
            title=h(quoted(event.title))
        ),
        _markup(
            [
                [button(_("Title"), cb("title")), button(_("Description"), cb("description"))],
                [button(_("Start and end"), cb("when")), button(_("Place or link"), cb("place"))],
                [button(_("Registration deadline"), cb("deadline"))],
                [button(_("✖️ Cancel"), cb("cancel"))],
            ]
        ),
    )


def _where_text(event: Event) -> str:
    return h(" · ".join(part for part in (event.place, event.online_url) if part) or "—")


def _edit_question(field: str, event: Event, tz: tzinfo) -> tuple[State, str] | None:
    """The form state and the question that starts editing `field`; None for an unknown one."""
    if field == "title":
        return EventEditForm.title, _(
            "✏️ Now: {title}.\nSend the new title (3 to 200 characters)."
        ).format(title=h(quoted(event.title)))
    if field == "description":
        return EventEditForm.description, _(
            "✏️ Now: {description}\n\nSend the new description (up to 2000 characters), "
            "or «-» to remove it."
        ).format(description=h(event.description[:1000]) or "—")
    if field == "when":
        now = _("🗓 Now: {when}.").format(when=when_text(event.starts_at, event.ends_at, tz))
        return EventEditForm.starts, now + "\n" + _start_question()
    if field == "place":
        now = _("📍 Now: {place}.").format(place=_where_text(event))
        return EventEditForm.place, now + "\n" + _place_question()
    if field == "deadline":
        now = (
            _("⏳ Now registration is open until {deadline}.").format(
                deadline=local_text(event.registration_deadline, tz)
            )
            if event.registration_deadline
            else _("⏳ Now registration is open until the start.")
        )
        ask = _(
            "Send the new deadline as DD.MM.YYYY HH:MM (not later than the start, {start}), "
            "or «-» to keep registration open until the start."
        ).format(start=local_text(event.starts_at, tz))
        return EventEditForm.deadline, now + "\n" + ask
    return None


async def on_event_edit(
    query: CallbackQuery,
    callback_data: EventEditCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    settings: Settings,
) -> None:
    event = await repo.events.get(callback_data.event)
    if event is None or not _in_scope(event, staff, role):
        await query.answer(_("You cannot manage this event."), show_alert=True)
        return
    if callback_data.field == "cancel":
        await state.clear()
        await _card(query, event, repo, settings)
        return
    if event.status != EventStatus.SCHEDULED.value:
        await query.answer(_("The event is cancelled or over."), show_alert=True)
        return
    question = _edit_question(callback_data.field, event, settings.tz)
    if question is None:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    target, text = question
    await state.clear()
    await state.set_state(target)
    await state.update_data(event=event.id)
    await show(query, text, _edit_cancel(event.id))


async def _edited_event(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role
) -> tuple[Event, str] | None:
    """The event being edited (re-checked: in scope and still scheduled) and the typed answer;
    None when there is nothing to do (a re-ask or a refusal has been sent)."""
    event_id = int((await state.get_data()).get("event", 0))
    text = await _typed(message, _edit_cancel(event_id))
    if text is None:
        return None
    event = await _form_event(state, repo, staff, role)
    if event is None or event.status != EventStatus.SCHEDULED.value:
        await state.clear()
        await message.answer(_("You cannot manage this event."))
        return None
    return event, text


async def _notify_change(
    event: Event,
    changed: Sequence[str],
    old_when: str,
    repo: Repo,
    bot: Bot,
    i18n: I18n,
    tz: tzinfo,
) -> int:
    """Tell everyone still waiting for the event about its new time or place, each in their
    language; how many were reached."""
    moved = bool({"starts_at", "ends_at"} & set(changed))
    relocated = bool({"place", "online_url"} & set(changed))
    when = when_text(event.starts_at, event.ends_at, tz)

    def notice() -> str:
        lines = [_("✏️ The event {title} has changed.").format(title=h(quoted(event.title)))]
        if moved:
            lines.append(_("🗓 New time: {when} (was {old}).").format(when=when, old=old_when))
        if relocated:
            lines.append(_("📍 New place: {place}").format(place=_where_text(event)))
        if not moved:
            lines.append("🗓 " + when)
        return "\n".join(lines)

    notified = 0
    for reg in await repo.events.active_registrants(event.id):
        notified += await notify_user(bot, i18n, reg.user, notice)
    return notified


async def _save_event(
    message: Message,
    state: FSMContext,
    event: Event,
    repo: Repo,
    staff: User,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
    **changes: object,
) -> None:
    old_when = when_text(event.starts_at, event.ends_at, settings.tz)
    changed = await repo.events.update_event(event, **changes)
    await state.clear()
    if not changed:
        await _card(message, event, repo, settings, note=_("Nothing changed."))
        return
    if "starts_at" in changed:
        remind_at = event.starts_at - REMIND_BEFORE
        await repo.jobs.reschedule(
            "event_reminder", event.id, remind_at if remind_at > _now() else None
        )
    if "ends_at" in changed:
        await repo.jobs.reschedule("feedback_request", event.id, event.ends_at + FEEDBACK_AFTER)
    note = _("✅ Saved.")
    notified: int | None = None
    if NOTIFIED_FIELDS & set(changed):
        notified = await _notify_change(event, changed, old_when, repo, bot, i18n, settings.tz)
        note += " " + ngettext(
            "{n} participant was notified of the change.",
            "{n} participants were notified of the change.",
            notified,
        ).format(n=notified)
    await repo.audit.record(
        "event_edited", actor=staff, event_id=event.id, fields=changed, notified=notified
    )
    await _card(message, event, repo, settings, note=note)


async def edit_title(
    message: Message,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
) -> None:
    got = await _edited_event(message, state, repo, staff, role)
    if got is None:
        return
    event, text = got
    problem = _title_problem(text)
    if problem is not None:
        await message.answer(problem, reply_markup=_edit_cancel(event.id))
        return
    await _save_event(message, state, event, repo, staff, bot, i18n, settings, title=text)


async def edit_description(
    message: Message,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
) -> None:
    got = await _edited_event(message, state, repo, staff, role)
    if got is None:
        return
    event, text = got
    problem = _description_problem(text)
    if problem is not None:
        await message.answer(problem, reply_markup=_edit_cancel(event.id))
        return
    description = "" if text == SKIP else text
    await _save_event(
        message, state, event, repo, staff, bot, i18n, settings, description=description
    )


async def edit_starts(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, settings: Settings
) -> None:
    got = await _edited_event(message, state, repo, staff, role)
    if got is None:
        return
    event, text = got
    starts_at = _read_start(text, settings.tz)
    if isinstance(starts_at, str):
        await message.answer(starts_at, reply_markup=_edit_cancel(event.id))
        return
    await state.update_data(starts=starts_at.isoformat())
    await state.set_state(EventEditForm.ends)
    await message.answer(_end_question(), reply_markup=_edit_cancel(event.id))


async def edit_ends(
    message: Message,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
) -> None:
    got = await _edited_event(message, state, repo, staff, role)
    if got is None:
        return
    event, text = got
    starts_at = datetime.fromisoformat(str((await state.get_data())["starts"]))
    ends_at = _read_end(text, starts_at, settings.tz)
    if isinstance(ends_at, str):
        await message.answer(ends_at, reply_markup=_edit_cancel(event.id))
        return
    if starts_at <= _now():
        await state.set_state(EventEditForm.starts)
        await message.answer(
            _(
                "The start time has passed while the form was open. Please send a new start as DD.MM.YYYY HH:MM."
            ),
            reply_markup=_edit_cancel(event.id),
        )
        return
    changes: dict[str, object] = {"starts_at": starts_at, "ends_at": ends_at}
    deadline = event.registration_deadline
    if deadline is not None and deadline > starts_at:  # a deadline after the start means nothing
        changes["registration_deadline"] = None
    await _save_event(message, state, event, repo, staff, bot, i18n, settings, **changes)


async def edit_place(
    message: Message,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
) -> None:
    got = await _edited_event(message, state, repo, staff, role)
    if got is None:
        return
    event, text = got
    read = _read_place(text)
    if isinstance(read, str):
        await message.answer(read, reply_markup=_edit_cancel(event.id))
        return
    place, url = read
    await _save_event(
        message, state, event, repo, staff, bot, i18n, settings, place=place, online_url=url
    )


async def edit_deadline(
    message: Message,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
) -> None:
    got = await _edited_event(message, state, repo, staff, role)
    if got is None:
        return
    event, text = got
    deadline: datetime | None = None
    if text != SKIP:
        read = _read_start(text, settings.tz)  # a moment in the future, like a start
        if isinstance(read, str):
            await message.answer(read, reply_markup=_edit_cancel(event.id))
            return
        if read > event.starts_at:
            await message.answer(
                _(
                    "The deadline must not be later than the start ({start}). Please send it again."
                ).format(start=local_text(event.starts_at, settings.tz)),
                reply_markup=_edit_cancel(event.id),
            )
            return
        deadline = read
    await _save_event(
        message, state, event, repo, staff, bot, i18n, settings, registration_deadline=deadline
    )


# ------------------------------------------------------------------ /mysites and the site card


async def _sites_list(
    target: Message | CallbackQuery, repo: Repo, staff: User, role: Role, page: int = 0
) -> None:
    if role is not Role.ADMIN and staff.municipality_id is None:
        await show(target, _no_municipality())
        return
    sites = await repo.events.sites(_scope(staff, role))
    if not sites:
        await show(target, _("No sites yet. Create one with /newsite."))
        return
    current = paginate(sites, page, SITES_PER_PAGE)
    buttons = [
        [button(shorten(site.title, 60), SiteAdminCb(action="card", site=site.id))]
        for site in current.items
    ]
    pager = pager_row(current, lambda p: SiteAdminCb(action="list", page=p))
    if pager:
        buttons.append(pager)
    await show(
        target,
        _("🏫 <b>Internship sites</b> ({n}): choose one to manage it.").format(n=len(sites)),
        _markup(buttons),
    )


async def cmd_mysites(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role
) -> None:
    await state.clear()
    await _sites_list(message, repo, staff, role)


def _site_modules(site: Site) -> list[tuple[str, int]]:
    return [(str(m.get("title", "")), int(m.get("hours", 0))) for m in site.modules]


async def _site_card(
    target: Message | CallbackQuery, site: Site, repo: Repo, staff: User, note: str = ""
) -> None:
    school = await repo.reference.school(site.school_id) if site.school_id else None
    framework = await repo.frameworks.active()
    upcoming = len(await repo.events.site_events(site.id, _now()))
    modules = _site_modules(site)
    total = sum(hours for _title, hours in modules)
    lines = [
        *([note, ""] if note else []),
        f"🏫 <b>{h(site.title)}</b>",
        _("Code: {code}").format(code=h(site.code)),
        _("Topic: {topic}").format(topic=h(site.topic)),
        _("School: {school}").format(school=h(school.name) if school else "—"),
        _("Competencies: {titles}").format(
            titles=_competency_titles(framework, site.competencies, staff.language)
        ),
        _("Contact: {contact}").format(contact=h(site.contact or "—")),
        _("🗓 Upcoming sessions: {n}").format(n=upcoming),
        "",
        ngettext("Programme ({n} hour):", "Programme ({n} hours):", total).format(n=total),
        *_modules_lines(modules),
    ]
    if site.description:
        lines += ["", h(site.description)]

    def cb(action: str) -> SiteAdminCb:
        return SiteAdminCb(action=action, site=site.id)

    buttons = [
        [button(_("✏️ Title"), cb("title")), button(_("✏️ Description"), cb("description"))],
        [button(_("✏️ Contact"), cb("contact")), button(_("✏️ Modules"), cb("modules"))],
        [button(_("⬅️ Back"), SiteAdminCb(action="list"))],
    ]
    await show(target, "\n".join(lines)[:4000], _markup(buttons))


def _site_question(action: str, site: Site) -> tuple[State, str] | None:
    if action == "title":
        return SiteEditForm.title, _(
            "✏️ Now: {title}.\nSend the new title (3 to 200 characters)."
        ).format(title=h(quoted(site.title)))
    if action == "description":
        return SiteEditForm.description, _(
            "✏️ Now: {description}\n\nSend the new description (up to 2000 characters), "
            "or «-» to remove it."
        ).format(description=h(site.description[:1000]) or "—")
    if action == "contact":
        return SiteEditForm.contact, _("✏️ Now: {contact}.").format(
            contact=h(site.contact or "—")
        ) + "\n" + _("Contact person: a name and a phone or e-mail (3 to 200 characters).")
    if action == "modules":
        now = "\n".join([_("✏️ Now:"), *_modules_lines(_site_modules(site))])
        return SiteEditForm.modules, now + "\n\n" + _modules_question()
    return None


async def on_site_admin(
    query: CallbackQuery,
    callback_data: SiteAdminCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
) -> None:
    if callback_data.action == "list":
        await _sites_list(query, repo, staff, role, callback_data.page)
        return
    site = await repo.events.site(callback_data.site)
    if site is None or not _in_scope(site, staff, role):
        await query.answer(_("You cannot manage this site."), show_alert=True)
        return
    if callback_data.action in ("card", "cancel"):
        if callback_data.action == "cancel":
            await state.clear()
        await _site_card(query, site, repo, staff)
        return
    question = _site_question(callback_data.action, site)
    if question is None:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    target, text = question
    await state.clear()
    await state.set_state(target)
    await state.update_data(site=site.id)
    await show(query, text, _site_edit_cancel(site.id))


async def _edited_site(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role
) -> tuple[Site, str] | None:
    site_id = int((await state.get_data()).get("site", 0))
    text = await _typed(message, _site_edit_cancel(site_id))
    if text is None:
        return None
    site = await repo.events.site(site_id)
    if site is None or not _in_scope(site, staff, role):
        await state.clear()
        await message.answer(_("You cannot manage this site."))
        return None
    return site, text


async def _save_site(
    message: Message, state: FSMContext, site: Site, repo: Repo, staff: User, **changes: object
) -> None:
    changed = await repo.events.update_site(site, **changes)
    await state.clear()
    if changed:
        await repo.audit.record("site_edited", actor=staff, site_id=site.id, fields=changed)
    await _site_card(
        message, site, repo, staff, note=_("✅ Saved.") if changed else _("Nothing changed.")
    )


async def site_edit_title(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role
) -> None:
    got = await _edited_site(message, state, repo, staff, role)
    if got is None:
        return
    site, text = got
    problem = _title_problem(text)
    if problem is not None:
        await message.answer(problem, reply_markup=_site_edit_cancel(site.id))
        return
    await _save_site(message, state, site, repo, staff, title=text)


async def site_edit_description(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role
) -> None:
    got = await _edited_site(message, state, repo, staff, role)
    if got is None:
        return
    site, text = got
    problem = _description_problem(text)
    if problem is not None:
        await message.answer(problem, reply_markup=_site_edit_cancel(site.id))
        return
    await _save_site(message, state, site, repo, staff, description="" if text == SKIP else text)


async def site_edit_contact(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role
) -> None:
    got = await _edited_site(message, state, repo, staff, role)
    if got is None:
        return
    site, text = got
    problem = _contact_problem(text)
    if problem is not None:
        await message.answer(problem, reply_markup=_site_edit_cancel(site.id))
        return
    await _save_site(message, state, site, repo, staff, contact=text)


async def site_edit_modules(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role
) -> None:
    got = await _edited_site(message, state, repo, staff, role)
    if got is None:
        return
    site, text = got
    modules = _read_modules(text)
    if isinstance(modules, str):
        await message.answer(modules, reply_markup=_site_edit_cancel(site.id))
        return
    await _save_site(
        message,
        state,
        site,
        repo,
        staff,
        modules=[{"title": title, "hours": hours} for title, hours in modules],
    )


# ------------------------------------------------------------------ the router


#: typed answers in a form; commands pass on to their own routers (the form stays open)
NOT_COMMAND = ~F.text.startswith("/")


def make_router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name="event_admin")
    router.message.filter(RoleFilter(Role.COORDINATOR))
    router.callback_query.filter(RoleFilter(Role.COORDINATOR))
    msg, cbq = router.message, router.callback_query

    msg.register(cmd_newevent, Command("newevent"))
    msg.register(cmd_newsite, Command("newsite"))
    msg.register(cmd_myevents, Command("myevents"))
    msg.register(cmd_mysites, Command("mysites"))

    # /newevent
    cbq.register(event_cancel, StateFilter(EventForm), NewEventCb.filter(F.action == "cancel"))
    cbq.register(event_kind, EventForm.kind, NewEventCb.filter(F.action == "kind"))
    cbq.register(event_comp, EventForm.competencies, NewEventCb.filter(F.action == "comp"))
    cbq.register(event_comp_done, EventForm.competencies, NewEventCb.filter(F.action == "done"))
    cbq.register(event_site, EventForm.site, NewEventCb.filter(F.action == "site"))
    cbq.register(event_audience, EventForm.audience, NewEventCb.filter(F.action == "aud"))
    cbq.register(event_publish, EventForm.confirm, NewEventCb.filter(F.action == "publish"))
    msg.register(event_title, EventForm.title, NOT_COMMAND)
    msg.register(event_description, EventForm.description, NOT_COMMAND)
    msg.register(event_starts, EventForm.starts, NOT_COMMAND)
    msg.register(event_ends, EventForm.ends, NOT_COMMAND)
    msg.register(event_place, EventForm.place, NOT_COMMAND)
    msg.register(event_capacity, EventForm.capacity, NOT_COMMAND)
    msg.register(use_buttons, StateFilter(EventForm), NOT_COMMAND)

    # /newsite
    cbq.register(site_cancel, StateFilter(SiteForm), NewSiteCb.filter(F.action == "cancel"))
    cbq.register(site_school_page, SiteForm.school, NewSiteCb.filter(F.action == "page"))
    cbq.register(site_school, SiteForm.school, NewSiteCb.filter(F.action.in_({"school", "skip"})))
    cbq.register(site_comp, SiteForm.competencies, NewSiteCb.filter(F.action == "comp"))
    cbq.register(site_comp_done, SiteForm.competencies, NewSiteCb.filter(F.action == "done"))
    cbq.register(site_create, SiteForm.confirm, NewSiteCb.filter(F.action == "create"))
    msg.register(site_title, SiteForm.title, NOT_COMMAND)
    msg.register(site_topic, SiteForm.topic, NOT_COMMAND)
    msg.register(site_description, SiteForm.description, NOT_COMMAND)
    msg.register(site_contact, SiteForm.contact, NOT_COMMAND)
    msg.register(site_modules, SiteForm.modules, NOT_COMMAND)
    msg.register(use_buttons, StateFilter(SiteForm), NOT_COMMAND)

    # /myevents, the card and its forms
    cbq.register(on_event_admin, EventAdminCb.filter())
    cbq.register(form_cancel, StateFilter(EventAdminForm), AdminFormCb.filter(F.action == "cancel"))
    msg.register(got_participants_message, EventAdminForm.message, NOT_COMMAND)
    msg.register(got_capacity, EventAdminForm.capacity, NOT_COMMAND)

    # editing an event (from its card)
    cbq.register(on_event_edit, EventEditCb.filter())
    msg.register(edit_title, EventEditForm.title, NOT_COMMAND)
    msg.register(edit_description, EventEditForm.description, NOT_COMMAND)
    msg.register(edit_starts, EventEditForm.starts, NOT_COMMAND)
    msg.register(edit_ends, EventEditForm.ends, NOT_COMMAND)
    msg.register(edit_place, EventEditForm.place, NOT_COMMAND)
    msg.register(edit_deadline, EventEditForm.deadline, NOT_COMMAND)

    # /mysites, the site card and its forms
    cbq.register(on_site_admin, SiteAdminCb.filter())
    msg.register(site_edit_title, SiteEditForm.title, NOT_COMMAND)
    msg.register(site_edit_description, SiteEditForm.description, NOT_COMMAND)
    msg.register(site_edit_contact, SiteEditForm.contact, NOT_COMMAND)
    msg.register(site_edit_modules, SiteEditForm.modules, NOT_COMMAND)
    return router
