"""Coordinators manage events and internship sites: `/newevent` and `/newsite` wizards (on the
shared step engine of handlers.wizard: ⬅️ Back on every step keeps the answers),
`/myevents` with the event admin card (participants, attendance, CSV, messages previewed
before they go, check-in QR, capacity, editing, cancellation) and `/mysites` with the site
card (editing the title, description, contact and modules). Scoped to the coordinator's
municipality; admins see everything. Ticking attendance completes the matching route step
and unticking reopens it (services.attendance).

Every callback carries only ids and re-checks on the server that the event belongs to the
coordinator's municipality. The small parsing helpers at the top are pure (no aiogram) and
unit-tested in tests/unit/test_event_admin_rules.py.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

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
from bot.qr import checkin_poster, checkin_poster_pdf, qr_png
from bot.tables import csv_writer
from db.models import Event, Registration, Site, User
from db.repo import Repo
from domain.checkin import checkin_payload, new_code
from domain.events import EventKind, EventStatus, RegStatus, waitlist_numbers
from domain.framework import Framework
from domain.ids import parse_id
from domain.pagination import paginate
from domain.roles import Role, staff_scope
from domain.typography import quoted, shorten
from handlers.common import button, h, notify_user, pager_row, rows, show
from handlers.events import notify_offer
from handlers.filters import RoleFilter
from handlers.formatting import show_long
from handlers.wizard import Rows, Step, Wizard
from services import attendance
from services import events as services

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
    action: str  # kind | comp | done | site | aud | publish | back | keep | cancel
    value: str = ""


class NewSiteCb(CallbackData, prefix="stn"):
    action: str  # school | page | skip | comp | done | create | back | keep | cancel
    value: str = ""


class EventAdminCb(CallbackData, prefix="eadm"):
    action: str  # list | card | people | att | csv | msg | qr | cap | edit | cancel | cancel_yes
    event: int = 0
    reg: int = 0


class AdminFormCb(CallbackData, prefix="eadf"):
    action: str  # cancel | send | edit (the message to participants, after its preview)


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


def _markup(buttons: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=buttons)


def _form_cancel() -> InlineKeyboardMarkup:
    return _markup([[button(_("✖️ Cancel"), AdminFormCb(action="cancel"))]])


def _edit_cancel(event_id: int) -> InlineKeyboardMarkup:
    return _markup([[button(_("✖️ Cancel"), EventEditCb(field="cancel", event=event_id))]])


def _site_edit_cancel(site_id: int) -> InlineKeyboardMarkup:
    return _markup([[button(_("✖️ Cancel"), SiteAdminCb(action="cancel", site=site_id))]])


def _scope(staff: User, role: Role) -> int | None:
    """Admins see every municipality; a coordinator only their own."""
    return staff_scope(role, staff.acting_municipality_id)


def _in_scope(event: Event | Site | None, staff: User, role: Role) -> bool:
    if event is None:
        return False
    return role is Role.ADMIN or event.municipality_id == staff.acting_municipality_id


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
    settings: Settings


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


# ------------------------------------------------------------------ /newevent: the steps


def _event_cb(action: str, value: str = "") -> NewEventCb:
    return NewEventCb(action=action, value=value)


async def _ask_kind(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    kinds = [
        button(_mark(data.get("kind") == k.value) + kind_label(k), _event_cb("kind", k.value))
        for k in EventKind
    ]
    return _("🗓 <b>New event</b>\n\nWhat kind of event is it?"), rows(kinds, 2)


async def _ask_title(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    question = _("{kind}. What is the title of the event? (3 to 200 characters)").format(
        kind=kind_label(str(data.get("kind", "")))
    )
    return question + _kept(data, "title", lambda v: h(quoted(v))), []


async def _ask_description(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    question = _("A short description for teachers (up to 2000 characters), or «-» to skip.")
    return question + _kept(data, "description", lambda v: h(str(v)[:1000]) or "—"), []


async def _ask_starts(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    shown = _kept(
        data, "starts", lambda v: local_text(datetime.fromisoformat(str(v)), ctx.settings.tz)
    )
    return _start_question() + shown, []


async def _ask_ends(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    if "ends" not in data:
        return _end_question(), []
    starts_at = datetime.fromisoformat(str(data["starts"]))
    ends_at = datetime.fromisoformat(str(data["ends"]))
    return _end_question() + _now_line(when_text(starts_at, ends_at, ctx.settings.tz)), []


async def _ask_place(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    shown = _kept(data, "place", lambda v: h(v or data.get("url") or "—"))
    return _place_question() + shown, []


async def _ask_capacity(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    question = _("How many seats? Send a whole number from 1 to 10000.")
    return question + _kept(data, "capacity", str), []


async def _ask_event_competencies(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    return _(
        "Which competencies does it develop? Tap to mark them, then «Done». You may choose none."
    ), _competency_rows(
        await ctx.repo.frameworks.active(),
        list(data.get("comps", [])),
        ctx.staff.language,
        _event_cb,
    )


async def _ask_site(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    municipality = ctx.staff.acting_municipality_id
    sites = await ctx.repo.events.sites(municipality) if municipality else []
    chosen = data.get("site", -1)
    buttons = [
        [button(_mark(chosen == s.id) + shorten(s.title, 60), _event_cb("site", str(s.id)))]
        for s in sites
    ]
    buttons.append([button(_mark(chosen is None) + _("No site"), _event_cb("site", "0"))])
    return _("Is it held at an internship site?"), buttons


async def _ask_audience(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    region = data.get("region")
    return _("Who is it for?"), [
        [button(_mark(region is False) + _("My municipality"), _event_cb("aud", "muni"))],
        [button(_mark(region is True) + _("Whole region"), _event_cb("aud", "region"))],
    ]


async def _ask_publish(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    starts_at = datetime.fromisoformat(str(data["starts"]))
    ends_at = datetime.fromisoformat(str(data["ends"]))
    site = await ctx.repo.events.site(int(data["site"])) if data.get("site") else None
    framework = await ctx.repo.frameworks.active()
    lines = [
        _("🗓 <b>Check the event before publishing</b>"),
        "",
        f"<b>{h(data['title'])}</b> · {kind_label(str(data['kind']))}",
        _("When: {when}").format(when=when_text(starts_at, ends_at, ctx.settings.tz)),
        _("Where: {place}").format(place=h(data.get("place") or data.get("url") or "—")),
        _("Seats: {capacity}").format(capacity=data["capacity"]),
        _("Competencies: {titles}").format(
            titles=_competency_titles(framework, list(data.get("comps", [])), ctx.staff.language)
        ),
        _("Site: {site}").format(site=h(site.title) if site else "—"),
        _("Audience: {audience}").format(
            audience=_("Whole region") if data.get("region") else _("My municipality")
        ),
    ]
    if data.get("description"):
        lines += ["", h(data["description"])]
    return "\n".join(lines), [[button(_("✅ Publish"), _event_cb("publish"))]]


EVENT_WIZARD: Wizard[Ctx] = Wizard(
    [
        Step(EventForm.kind, _ask_kind, answer=("kind",)),
        Step(EventForm.title, _ask_title, answer=("title",)),
        Step(EventForm.description, _ask_description, answer=("description",)),
        Step(EventForm.starts, _ask_starts, answer=("starts",)),
        Step(EventForm.ends, _ask_ends, answer=("ends",)),
        Step(EventForm.place, _ask_place, answer=("place", "url")),
        Step(EventForm.capacity, _ask_capacity, answer=("capacity",)),
        Step(EventForm.competencies, _ask_event_competencies),
        Step(EventForm.site, _ask_site, answer=("site",)),
        Step(
            EventForm.audience,
            _ask_audience,
            answer=("region",),
            used=lambda ctx: ctx.role is Role.ADMIN,
        ),
        Step(EventForm.confirm, _ask_publish),
    ],
    _event_cb,
)


# ------------------------------------------------------------------ /newevent: the answers


async def cmd_newevent(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, settings: Settings
) -> None:
    if staff.acting_municipality_id is None:
        await message.answer(_no_municipality())
        return
    await EVENT_WIZARD.start(message, state, Ctx(repo, staff, role, settings))


async def event_cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await show(query, _("Cancelled. Nothing was saved."))


async def event_nav(
    query: CallbackQuery,
    callback_data: NewEventCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    settings: Settings,
) -> None:
    """⬅️ Back and ➡️ Keep."""
    ctx = Ctx(repo, staff, role, settings)
    if callback_data.action == "back":
        await EVENT_WIZARD.back(query, state, ctx, callback_data.value)
    else:
        await EVENT_WIZARD.keep(query, state, ctx, callback_data.value)


async def event_kind(
    query: CallbackQuery,
    callback_data: NewEventCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    settings: Settings,
) -> None:
    if callback_data.value not in set(EventKind):
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    await state.update_data(kind=callback_data.value)
    await EVENT_WIZARD.advance(query, state, Ctx(repo, staff, role, settings))


async def event_title(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, settings: Settings
) -> None:
    ctx = Ctx(repo, staff, role, settings)
    text = await _wizard_text(message, state, ctx, EVENT_WIZARD)
    if text is None:
        return
    problem = _title_problem(text)
    if problem is not None:
        await EVENT_WIZARD.retry(message, state, ctx, problem)
        return
    await state.update_data(title=text)
    await EVENT_WIZARD.advance(message, state, ctx)


async def event_description(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, settings: Settings
) -> None:
    ctx = Ctx(repo, staff, role, settings)
    text = await _wizard_text(message, state, ctx, EVENT_WIZARD)
    if text is None:
        return
    problem = _description_problem(text)
    if problem is not None:
        await EVENT_WIZARD.retry(message, state, ctx, problem)
        return
    await state.update_data(description="" if text == SKIP else text)
    await EVENT_WIZARD.advance(message, state, ctx)


async def event_starts(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, settings: Settings
) -> None:
    ctx = Ctx(repo, staff, role, settings)
    text = await _wizard_text(message, state, ctx, EVENT_WIZARD)
    if text is None:
        return
    starts_at = _read_start(text, settings.tz)
    if isinstance(starts_at, str):
        await EVENT_WIZARD.retry(message, state, ctx, starts_at)
        return
    data = await state.get_data()
    if data.get("starts") != starts_at.isoformat():
        # the end may be "HH:MM" on the start's day: a new start asks for the end again
        await state.set_data(
            {**{k: v for k, v in data.items() if k != "ends"}, "starts": starts_at.isoformat()}
        )
    await EVENT_WIZARD.advance(message, state, ctx)


async def event_ends(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, settings: Settings
) -> None:
    ctx = Ctx(repo, staff, role, settings)
    text = await _wizard_text(message, state, ctx, EVENT_WIZARD)
    if text is None:
        return
    starts_at = datetime.fromisoformat(str((await state.get_data())["starts"]))
    ends_at = _read_end(text, starts_at, settings.tz)
    if isinstance(ends_at, str):
        await EVENT_WIZARD.retry(message, state, ctx, ends_at)
        return
    await state.update_data(ends=ends_at.isoformat())
    await EVENT_WIZARD.advance(message, state, ctx)


async def event_place(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, settings: Settings
) -> None:
    ctx = Ctx(repo, staff, role, settings)
    text = await _wizard_text(message, state, ctx, EVENT_WIZARD)
    if text is None:
        return
    read = _read_place(text)
    if isinstance(read, str):
        await EVENT_WIZARD.retry(message, state, ctx, read)
        return
    place, url = read
    await state.update_data(place=place, url=url)
    await EVENT_WIZARD.advance(message, state, ctx)


async def event_capacity(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, settings: Settings
) -> None:
    ctx = Ctx(repo, staff, role, settings)
    text = await _wizard_text(message, state, ctx, EVENT_WIZARD)
    if text is None:
        return
    capacity = parse_whole(text, CAPACITY_MIN, CAPACITY_MAX)
    if capacity is None:
        await EVENT_WIZARD.retry(
            message, state, ctx, _("Please send a whole number from 1 to 10000.")
        )
        return
    await state.update_data(capacity=capacity)
    await EVENT_WIZARD.advance(message, state, ctx)


async def event_comp(
    query: CallbackQuery,
    callback_data: NewEventCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    settings: Settings,
) -> None:
    framework = await repo.frameworks.active()
    codes = {c.code for c in framework.competencies} if framework else set()
    if callback_data.value not in codes:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    chosen = _toggle(list((await state.get_data()).get("comps", [])), callback_data.value)
    await state.update_data(comps=chosen)
    await EVENT_WIZARD.ask(query, state, Ctx(repo, staff, role, settings), EventForm.competencies)


async def event_comp_done(
    query: CallbackQuery, state: FSMContext, repo: Repo, staff: User, role: Role, settings: Settings
) -> None:
    await EVENT_WIZARD.advance(query, state, Ctx(repo, staff, role, settings))


async def event_site(
    query: CallbackQuery,
    callback_data: NewEventCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    settings: Settings,
) -> None:
    site_id = 0 if callback_data.value == "0" else (parse_id(callback_data.value) or -1)
    if site_id != 0:
        site = await repo.events.site(site_id) if site_id > 0 else None
        if site is None or site.municipality_id != staff.acting_municipality_id:
            await query.answer(_("This button is out of date."), show_alert=True)
            return
    await state.update_data(site=site_id or None)
    if role is not Role.ADMIN:  # only admins choose the audience (the step is left out)
        await state.update_data(region=False)
    await EVENT_WIZARD.advance(query, state, Ctx(repo, staff, role, settings))


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
    await EVENT_WIZARD.advance(query, state, Ctx(repo, staff, role, settings))


async def event_publish(
    query: CallbackQuery, state: FSMContext, repo: Repo, staff: User, role: Role, settings: Settings
) -> None:
    if staff.acting_municipality_id is None:
        await state.clear()
        await show(query, _no_municipality())
        return
    ctx = Ctx(repo, staff, role, settings)
    data = await state.get_data()
    starts_at = datetime.fromisoformat(str(data["starts"]))
    now = _now()
    if starts_at <= now:
        await EVENT_WIZARD.ask(
            query,
            state,
            ctx,
            EventForm.starts,
            note=_(
                "The start time has passed while the form was open. Please send a new start as DD.MM.YYYY HH:MM."
            ),
        )
        return
    ends_at = datetime.fromisoformat(str(data["ends"]))
    created = await services.create_event(
        repo,
        Event(
            kind=str(data["kind"]),
            title=str(data["title"]),
            description=str(data.get("description", "")),
            competencies=list(data.get("comps", [])),
            site_id=data.get("site") or None,
            municipality_id=staff.acting_municipality_id,
            region_wide=bool(data.get("region")) and role is Role.ADMIN,
            starts_at=starts_at,
            ends_at=ends_at,
            place=str(data.get("place", "")),
            online_url=str(data.get("url", "")),
            capacity=int(data["capacity"]),
            status=EventStatus.SCHEDULED.value,
            organiser_id=staff.id,
            checkin_code=new_code(),
        ),
        now,
    )
    event = created.event
    await repo.audit.record("event_created", actor=staff, event_id=event.id)
    await state.clear()
    await show(
        query,
        _("✅ Published: <b>{title}</b>. Teachers can sign up now.").format(title=h(event.title)),
        _markup([[button(_("Open the event card"), EventAdminCb(action="card", event=event.id))]]),
    )


async def use_buttons(message: Message) -> None:
    await message.answer(_("Please choose with the buttons above, or tap ✖️ Cancel."))


# ------------------------------------------------------------------ /newsite: the steps


def _site_cb(action: str, value: str = "") -> NewSiteCb:
    return NewSiteCb(action=action, value=value)


async def _ask_site_title(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    question = _("🏫 <b>New internship site</b>\n\nWhat is the site called? (3 to 200 characters)")
    return question + _kept(data, "title", lambda v: h(quoted(v))), []


async def _ask_topic(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    question = _("What is its topic (direction)? 3 to 200 characters.")
    return question + _kept(data, "topic", lambda v: h(quoted(v))), []


async def _ask_school(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    schools = (
        await ctx.repo.reference.schools(ctx.staff.acting_municipality_id)
        if ctx.staff.acting_municipality_id is not None
        else []
    )
    chosen = data.get("school", -1)
    current = paginate(schools, int(data.get("school_page", 0)), SCHOOLS_PER_PAGE)
    buttons = rows(
        [
            button(_mark(chosen == s.id) + shorten(s.short_name, 40), _site_cb("school", str(s.id)))
            for s in current.items
        ],
        2,
    )
    pager = pager_row(current, lambda p: _site_cb("page", str(p)))
    if pager:
        buttons.append(pager)
    buttons.append([button(_mark(chosen is None) + _("Skip"), _site_cb("skip"))])
    return _("Which school hosts the site?"), buttons


async def _ask_site_competencies(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    return _(
        "Which competencies does the site develop? Tap to mark at least one, then «Done»."
    ), _competency_rows(
        await ctx.repo.frameworks.active(),
        list(data.get("comps", [])),
        ctx.staff.language,
        _site_cb,
    )


async def _ask_site_description(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    question = _("A description for teachers (up to 2000 characters), or «-» to skip.")
    return question + _kept(data, "description", lambda v: h(str(v)[:1000]) or "—"), []


async def _ask_contact(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    question = _("Contact person: a name and a phone or e-mail (3 to 200 characters).")
    return question + _kept(data, "contact", h), []


def _stored_modules(data: dict[str, Any]) -> list[tuple[str, int]]:
    return [(str(title), int(hours)) for title, hours in data.get("modules", [])]


async def _ask_modules(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    shown = _kept(
        data, "modules", lambda _v: "\n" + "\n".join(_modules_lines(_stored_modules(data)))
    )
    return _modules_question() + shown, []


async def _ask_create(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    school = await ctx.repo.reference.school(int(data["school"])) if data.get("school") else None
    framework = await ctx.repo.frameworks.active()
    lines = [
        _("🏫 <b>Check the site before creating it</b>"),
        "",
        f"<b>{h(data['title'])}</b>",
        _("Topic: {topic}").format(topic=h(data["topic"])),
        _("School: {school}").format(school=h(school.name) if school else "—"),
        _("Competencies: {titles}").format(
            titles=_competency_titles(framework, list(data.get("comps", [])), ctx.staff.language)
        ),
        _("Contact: {contact}").format(contact=h(data["contact"])),
        _("Programme:"),
        *_modules_lines(_stored_modules(data)),
    ]
    if data.get("description"):
        lines += ["", h(data["description"])]
    return "\n".join(lines), [[button(_("✅ Create"), _site_cb("create"))]]


SITE_WIZARD: Wizard[Ctx] = Wizard(
    [
        Step(SiteForm.title, _ask_site_title, answer=("title",)),
        Step(SiteForm.topic, _ask_topic, answer=("topic",)),
        Step(SiteForm.school, _ask_school, answer=("school",)),
        Step(SiteForm.competencies, _ask_site_competencies),
        Step(SiteForm.description, _ask_site_description, answer=("description",)),
        Step(SiteForm.contact, _ask_contact, answer=("contact",)),
        Step(SiteForm.modules, _ask_modules, answer=("modules",)),
        Step(SiteForm.confirm, _ask_create),
    ],
    _site_cb,
)


# ------------------------------------------------------------------ /newsite: the answers


async def cmd_newsite(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, settings: Settings
) -> None:
    if staff.acting_municipality_id is None:
        await message.answer(_no_municipality())
        return
    await SITE_WIZARD.start(message, state, Ctx(repo, staff, role, settings))


async def site_cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await show(query, _("Cancelled. Nothing was saved."))


async def site_nav(
    query: CallbackQuery,
    callback_data: NewSiteCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    settings: Settings,
) -> None:
    """⬅️ Back and ➡️ Keep."""
    ctx = Ctx(repo, staff, role, settings)
    if callback_data.action == "back":
        await SITE_WIZARD.back(query, state, ctx, callback_data.value)
    else:
        await SITE_WIZARD.keep(query, state, ctx, callback_data.value)


async def _site_typed(
    message: Message,
    state: FSMContext,
    ctx: Ctx,
    key: str,
    problem: Callable[[str], str | None],
    value: Callable[[str], object] = str,
) -> None:
    """A typed answer of the site wizard: checked, stored under `key`, then the next step."""
    text = await _wizard_text(message, state, ctx, SITE_WIZARD)
    if text is None:
        return
    trouble = problem(text)
    if trouble is not None:
        await SITE_WIZARD.retry(message, state, ctx, trouble)
        return
    await state.update_data({key: value(text)})
    await SITE_WIZARD.advance(message, state, ctx)


async def site_title(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, settings: Settings
) -> None:
    await _site_typed(message, state, Ctx(repo, staff, role, settings), "title", _title_problem)


def _topic_problem(text: str) -> str | None:
    if fits(text, TITLE_MIN, TITLE_MAX):
        return None
    return _("The topic should be 3 to 200 characters long. Please send it again.")


async def site_topic(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, settings: Settings
) -> None:
    if staff.acting_municipality_id is None:
        await state.clear()
        await message.answer(_no_municipality())
        return
    await _site_typed(message, state, Ctx(repo, staff, role, settings), "topic", _topic_problem)


async def site_school_page(
    query: CallbackQuery,
    callback_data: NewSiteCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    settings: Settings,
) -> None:
    page = parse_id(callback_data.value, maximum=10_000) or 0
    await state.update_data(school_page=page)
    await SITE_WIZARD.ask(query, state, Ctx(repo, staff, role, settings), SiteForm.school)


async def site_school(
    query: CallbackQuery,
    callback_data: NewSiteCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    settings: Settings,
) -> None:
    school_id: int | None = None
    if callback_data.action == "school":
        school = (
            await repo.reference.school(school_ref)
            if (school_ref := parse_id(callback_data.value))
            else None
        )
        if school is None or school.municipality_id != staff.acting_municipality_id:
            await query.answer(_("This button is out of date."), show_alert=True)
            return
        school_id = school.id
    await state.update_data(school=school_id)
    await SITE_WIZARD.advance(query, state, Ctx(repo, staff, role, settings))


async def site_comp(
    query: CallbackQuery,
    callback_data: NewSiteCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    settings: Settings,
) -> None:
    framework = await repo.frameworks.active()
    codes = {c.code for c in framework.competencies} if framework else set()
    if callback_data.value not in codes:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    chosen = _toggle(list((await state.get_data()).get("comps", [])), callback_data.value)
    await state.update_data(comps=chosen)
    await SITE_WIZARD.ask(query, state, Ctx(repo, staff, role, settings), SiteForm.competencies)


async def site_comp_done(
    query: CallbackQuery, state: FSMContext, repo: Repo, staff: User, role: Role, settings: Settings
) -> None:
    if not (await state.get_data()).get("comps"):
        await query.answer(_("Choose at least one competency."), show_alert=True)
        return
    await SITE_WIZARD.advance(query, state, Ctx(repo, staff, role, settings))


async def site_description(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, settings: Settings
) -> None:
    await _site_typed(
        message,
        state,
        Ctx(repo, staff, role, settings),
        "description",
        _description_problem,
        lambda text: "" if text == SKIP else text,
    )


async def site_contact(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, settings: Settings
) -> None:
    await _site_typed(message, state, Ctx(repo, staff, role, settings), "contact", _contact_problem)


async def site_modules(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, settings: Settings
) -> None:
    ctx = Ctx(repo, staff, role, settings)
    text = await _wizard_text(message, state, ctx, SITE_WIZARD)
    if text is None:
        return
    modules = _read_modules(text)
    if isinstance(modules, str):
        await SITE_WIZARD.retry(message, state, ctx, modules)
        return
    await state.update_data(modules=[[title, hours] for title, hours in modules])
    await SITE_WIZARD.advance(message, state, ctx)


async def site_create(query: CallbackQuery, state: FSMContext, repo: Repo, staff: User) -> None:
    if staff.acting_municipality_id is None:
        await state.clear()
        await show(query, _no_municipality())
        return
    municipality = await repo.reference.municipality(staff.acting_municipality_id)
    assert municipality is not None
    data = await state.get_data()
    existing = await repo.events.sites(staff.acting_municipality_id)
    number = len(existing) + 1
    while await repo.events.site_by_code(site_code(municipality.code, number)) is not None:
        number += 1
    site = await repo.events.add_site(
        Site(
            code=site_code(municipality.code, number),
            municipality_id=staff.acting_municipality_id,
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
    if role is not Role.ADMIN and staff.acting_municipality_id is None:
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


async def _toggle_attendance(
    query: CallbackQuery, event: Event, reg_id: int, repo: Repo, staff: User
) -> None:
    """Tick: attended, and the matching route step is done (as a check-in does). Untick: the
    step that attendance completed is reopened (services.attendance)."""
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
    attended = reg.status != RegStatus.ATTENDED.value
    if attended:
        step = await attendance.attend(repo, reg, event, _now())
    else:
        step = await attendance.unattend(repo, reg, _now())
    await repo.audit.record(
        "attendance_marked" if attended else "attendance_unmarked",
        actor=staff,
        target=reg.user,
        event_id=event.id,
        step_id=step.id if step is not None else None,
    )
    await _participants(query, event, repo)


def participants_csv(
    regs: Sequence[Registration], schools: dict[int, str], tz: tzinfo, *, ended: bool = False
) -> bytes:
    """UTF-8 with a BOM (Excel opens it right), ";" between columns."""
    out = io.StringIO()
    writer = csv_writer(out)
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
    waitlist = waitlist_numbers((reg.status, reg.queue_no) for reg in regs)
    for reg in regs:
        writer.writerow(
            [
                reg.user.full_name or "",
                schools.get(reg.user.school_id or 0, ""),
                reg_status_label(reg.status, ended=ended),
                waitlist.get(reg.queue_no, ""),
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


async def _qr(query: CallbackQuery, event: Event, bot: Bot, tz: tzinfo) -> None:
    username = (await bot.me()).username or ""
    link = f"https://t.me/{username}?start=" + checkin_payload(event.id, event.checkin_code)
    png = qr_png(link)
    await query.answer()
    assert query.message is not None
    when = when_text(event.starts_at, event.ends_at, tz)
    poster = checkin_poster(
        event.title, when, event.place or event.online_url, event.checkin_code, link
    )
    await bot.send_document(
        query.message.chat.id,
        BufferedInputFile(
            await asyncio.to_thread(checkin_poster_pdf, poster), f"checkin-{event.id}.pdf"
        ),
        caption=_("🖨 The check-in poster to print (A4)."),
    )
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
    done = await services.cancel_event(repo, event.id)
    if isinstance(done, services.Refused):
        await query.answer(_("The event is cancelled or over."), show_alert=True)
        return
    await repo.session.commit()  # release the event lock before messaging anyone
    notified = await send_notices(done.notices, repo, bot, i18n, settings.tz)
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
        await _toggle_attendance(query, event, callback_data.reg, repo, staff)
    elif action == "csv":
        await _export(query, event, repo, bot, settings)
    elif action == "qr":
        await _qr(query, event, bot, settings.tz)
    elif action == "msg":
        if not await _recipients(repo, event):
            await query.answer(
                _("No one is signed up yet: there is no one to message."), show_alert=True
            )
            return
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


def participants_message(title: str, text: str) -> str:
    """What the participants of an event get: its title and the coordinator's text, both
    escaped, so the text arrives exactly as typed (no markup is interpreted)."""
    return f"✉️ <b>{h(title)}</b>:\n\n{h(text)}"


async def _recipients(repo: Repo, event: Event) -> list[Registration]:
    """Everyone still signed up (confirmed, offered, waitlisted, attended), with their users."""
    return [r for r in await repo.events.participants(event.id) if RegStatus(r.status).active]


async def got_participants_message(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role
) -> None:
    """The text typed: a preview of exactly what participants will get, to confirm."""
    text = await _typed(message, _form_cancel())
    if text is None:
        return
    if len(text) > MESSAGE_MAX:
        await message.answer(
            _("Please send a text of up to 1000 characters."), reply_markup=_form_cancel()
        )
        return
    event = await _form_event(state, repo, staff, role)
    if event is None or event.status != EventStatus.SCHEDULED.value:
        await state.clear()
        await message.answer(_("You cannot manage this event."))
        return
    count = len(await _recipients(repo, event))
    if not count:  # everyone left while the text was typed
        await state.clear()
        await message.answer(_("No one is signed up yet: there is no one to message."))
        return
    await state.update_data(text=text)
    await state.set_state(EventAdminForm.preview)
    await message.answer(participants_message(event.title, text))
    await message.answer(
        ngettext(
            "👆 This is exactly what participants will receive. Send it to {n} participant?",
            "👆 This is exactly what participants will receive. Send it to {n} participants?",
            count,
        ).format(n=count),
        reply_markup=_markup(
            [
                [
                    button(_("✅ Send"), AdminFormCb(action="send")),
                    button(_("✏️ Edit"), AdminFormCb(action="edit")),
                    button(_("✖️ Cancel"), AdminFormCb(action="cancel")),
                ]
            ]
        ),
    )


async def edit_participants_message(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(EventAdminForm.message)
    await show(
        query,
        _("✏️ Send the new text of the message (up to 1000 characters):"),
        _form_cancel(),
    )


async def send_participants_message(
    query: CallbackQuery,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    bot: Bot,
    i18n: I18n,
) -> None:
    data = await state.get_data()
    event = await _form_event(state, repo, staff, role)
    await state.clear()  # a second tap finds nothing to send
    text = str(data.get("text") or "")
    if event is None or not text:
        await show(query, _("You cannot manage this event."))
        return
    if event.status != EventStatus.SCHEDULED.value:
        await show(query, _("The event is cancelled or over."))
        return
    body = participants_message(event.title, text)
    sent = failed = 0
    for reg in await _recipients(repo, event):
        if reg.user.telegram_id is None:
            failed += 1
        elif await notify_user(bot, i18n, reg.user, lambda: body):
            sent += 1
        else:
            failed += 1
    await repo.audit.record(
        "event_message", actor=staff, event_id=event.id, sent=sent, failed=failed
    )
    await show(
        query,
        _("✉️ Sent to {sent}, could not reach {failed}.").format(sent=sent, failed=failed),
        _markup([[button(_("⬅️ Back to the event"), EventAdminCb(action="card", event=event.id))]]),
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
    done = await services.change_capacity(repo, event.id, capacity, _now())
    if isinstance(done, services.Refused):
        if done.reason is not services.Refusal.BELOW_TAKEN:
            await state.clear()
            await message.answer(_("You cannot manage this event."))
            return
        await message.answer(
            ngettext(
                "{n} seat is already taken, so the capacity cannot be lower. Please send {n} or more.",
                "{n} seats are already taken, so the capacity cannot be lower. Please send {n} or more.",
                done.seats_taken,
            ).format(n=done.seats_taken),
            reply_markup=_form_cancel(),
        )
        return
    await state.clear()
    offered = done.count(services.NoticeKind.SEAT_OFFERED)
    await repo.audit.record(
        "event_capacity",
        actor=staff,
        event_id=event.id,
        old=old,
        new=capacity,
        offered=offered,
    )
    await repo.session.commit()  # release the event lock before messaging anyone
    await send_notices(done.notices, repo, bot, i18n, settings.tz)
    text = _("🪑 Capacity is now {capacity}.").format(capacity=capacity)
    if offered:
        text += " " + ngettext(
            "A seat was offered to {n} person from the waitlist.",
            "Seats were offered to {n} people from the waitlist.",
            offered,
        ).format(n=offered)
    await message.answer(
        text,
        reply_markup=_markup(
            [[button(_("⬅️ Back to the event"), EventAdminCb(action="card", event=event.id))]]
        ),
    )


# ------------------------------------------------------------------ editing an event


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


async def send_notices(
    notices: Sequence[services.Notice], repo: Repo, bot: Bot, i18n: I18n, tz: ZoneInfo
) -> int:
    """Deliver what `services.events` produced, each in the recipient's language; how many
    were reached (a seat offer counts when made). Call it after the commit."""
    users = await repo.events.users_by_id([n.user_id for n in notices])
    events: dict[int, Event | None] = {}
    reached = 0
    for notice in notices:
        if notice.kind is services.NoticeKind.SEAT_OFFERED:
            reg = await repo.events.registration_by_id(notice.reg_id or 0)
            if reg is not None and reg.status == RegStatus.OFFERED.value:
                await notify_offer(bot, i18n, reg, repo, tz=tz, schedule_expiry=False)
                reached += 1
            continue
        if notice.event_id not in events:
            events[notice.event_id] = await repo.events.get(notice.event_id)
        event = events[notice.event_id]
        user = users.get(notice.user_id)
        if event is None or user is None:
            continue
        reached += await notify_user(bot, i18n, user, _notice_text(notice, event, tz))
    return reached


def _notice_text(notice: services.Notice, event: Event, tz: tzinfo) -> Callable[[], str]:
    when = when_text(event.starts_at, event.ends_at, tz)
    if notice.kind is services.NoticeKind.EVENT_CANCELLED:
        return lambda: _(
            "🚫 The event {title} ({when}) has been cancelled. We are sorry; "
            "look for other events in the bot."
        ).format(title=h(quoted(event.title)), when=when)
    moved = notice.was_starts_at is not None and notice.was_ends_at is not None
    relocated = bool({"place", "online_url"} & set(notice.changed))
    old_when = (
        when_text(notice.was_starts_at, notice.was_ends_at, tz)
        if notice.was_starts_at is not None and notice.was_ends_at is not None
        else ""
    )

    def text() -> str:
        lines = [_("✏️ The event {title} has changed.").format(title=h(quoted(event.title)))]
        if moved:
            lines.append(_("🗓 New time: {when} (was {old}).").format(when=when, old=old_when))
        if relocated:
            lines.append(_("📍 New place: {place}").format(place=_where_text(event)))
        if not moved:
            lines.append("🗓 " + when)
        return "\n".join(lines)

    return text


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
    done = await services.change_event(repo, event.id, changes, _now())
    await state.clear()
    if isinstance(done, services.Refused):
        await message.answer(_("You cannot manage this event."))
        return
    changed = list(done.changed)
    if not changed:
        await _card(message, event, repo, settings, note=_("Nothing changed."))
        return
    note = _("✅ Saved.")
    notified: int | None = None
    if services.NOTIFIED_FIELDS & set(changed):
        await repo.session.commit()  # release the event lock before messaging anyone
        notified = await send_notices(done.notices, repo, bot, i18n, settings.tz)
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
    if role is not Role.ADMIN and staff.acting_municipality_id is None:
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
    await show_long(target, lines, _markup(buttons))


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
    cbq.register(
        event_nav, StateFilter(EventForm), NewEventCb.filter(F.action.in_({"back", "keep"}))
    )
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
    cbq.register(site_nav, StateFilter(SiteForm), NewSiteCb.filter(F.action.in_({"back", "keep"})))
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
    cbq.register(
        send_participants_message, EventAdminForm.preview, AdminFormCb.filter(F.action == "send")
    )
    cbq.register(
        edit_participants_message, EventAdminForm.preview, AdminFormCb.filter(F.action == "edit")
    )
    msg.register(use_buttons, EventAdminForm.preview, NOT_COMMAND)
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
