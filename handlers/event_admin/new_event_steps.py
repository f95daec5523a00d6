"""/newevent: the steps of the wizard (a question and its buttons each)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram.utils.i18n import gettext as _

from domain.event_forms import local_text
from domain.events import EventKind
from domain.roles import Role
from domain.typography import quoted, shorten
from handlers.event_admin.common import (
    Ctx,
    _competency_rows,
    _competency_titles,
    _end_question,
    _kept,
    _mark,
    _now_line,
    _place_question,
    _scope,
    _start_question,
)
from handlers.event_admin.states import EventForm
from handlers.wizard import Rows, Step, Wizard
from ui.callbacks.event_admin import NewEventAction, NewEventCb
from ui.formatting import h, when_text
from ui.keyboards.common import button, rows
from ui.texts import kind_label

# ------------------------------------------------------------------ /newevent: the steps


def _event_cb(action: NewEventAction, value: str = "") -> NewEventCb:
    return NewEventCb(action=action, value=value)


async def _ask_kind(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    kinds = [
        button(
            _mark(data.get("kind") == k.value) + kind_label(k),
            _event_cb(NewEventAction.KIND, k.value),
        )
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
    shown = _kept(data, "starts", lambda v: local_text(datetime.fromisoformat(str(v)), ctx.tz))
    return _start_question() + shown, []


async def _ask_ends(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    if "ends" not in data:
        return _end_question(), []
    starts_at = datetime.fromisoformat(str(data["starts"]))
    ends_at = datetime.fromisoformat(str(data["ends"]))
    return _end_question() + _now_line(when_text(starts_at, ends_at, ctx.tz)), []


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
        lambda action, value: _event_cb(NewEventAction(action), value),
    )


async def _ask_site(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    scope = await _scope(ctx.repo, ctx.staff, ctx.role)
    sites = await ctx.repo.events.sites(scope)
    chosen = data.get("site", -1)
    buttons = [
        [
            button(
                _mark(chosen == s.id) + shorten(s.title, 60),
                _event_cb(NewEventAction.SITE, str(s.id)),
            )
        ]
        for s in sites
    ]
    if scope.school_ids is None:  # a school's events are those at its sites
        buttons.append(
            [button(_mark(chosen is None) + _("No site"), _event_cb(NewEventAction.SITE, "0"))]
        )
    return _("Is it held at an internship site?"), buttons


async def _ask_audience(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    region = data.get("region")
    return _("Who is it for?"), [
        [
            button(
                _mark(region is False) + _("My municipality"), _event_cb(NewEventAction.AUD, "muni")
            )
        ],
        [
            button(
                _mark(region is True) + _("Whole region"), _event_cb(NewEventAction.AUD, "region")
            )
        ],
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
        _("When: {when}").format(when=when_text(starts_at, ends_at, ctx.tz)),
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
    return "\n".join(lines), [[button(_("✅ Publish"), _event_cb(NewEventAction.PUBLISH))]]


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
    lambda nav, step: _event_cb(NewEventAction(nav), step),
)
