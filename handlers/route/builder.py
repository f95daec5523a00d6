"""The individual educational route (ИОМ): build it from the deficits, walk its steps, export.

Route building and progress are `domain.route`; step texts are copied from the framework's
templates into the database when the route is built.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, tzinfo

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.export import RouteCompetencyBlock, RouteDocument, RouteStepRow, route_pdf
from bot.usercache import UserContext
from db.event_repo import TeacherEvents
from db.models import Event, Route, RouteStep, User
from db.repo import Repo
from db.types import utcnow
from domain.assessment import AssessmentResult
from domain.attendance import STEP_FOR_KIND
from domain.framework import Framework
from domain.profile import is_young_teacher
from domain.route import (
    Pace,
    StepStatus,
    adjust,
    build_route,
    default_competencies,
    progress_bar,
    progress_share,
)
from domain.typography import shorten
from handlers.assessment import ResultCb
from handlers.common import MENU_ROUTE, button, h, rows, show
from handlers.events import EvAct
from handlers.formatting import show_long
from handlers.freetext import TypedAnswer

STATUS_ICON = {
    StepStatus.PLANNED: "⬜",
    StepStatus.IN_PROGRESS: "🔄",
    StepStatus.DONE: "✅",
    StepStatus.SKIPPED: "⏭",
}
EVIDENCE_MAX = 1000
REFLECTION_MAX = 500


class BuildCb(CallbackData, prefix="rb"):
    action: str  # toggle | pace | start
    code: str = ""


class RouteCb(CallbackData, prefix="rt"):
    action: str  # overview | comp | step | status | export
    step: int = 0
    code: str = ""
    status: str = ""


class ReplaceCb(CallbackData, prefix="rr"):
    """Replace the current route with a new one (asked first) or keep it."""

    confirm: bool
    route: int


class PastCb(CallbackData, prefix="rp"):
    """Earlier (archived) routes: the list (route=0) or one route's read-only card."""

    route: int = 0


class Evidence(StatesGroup):
    proof = State()
    reflection = State()


def kind_label(kind: str) -> str:
    return {
        "learn": _("Learning"),
        "practice": _("Internship site"),
        "masterclass": _("Master-class"),
        "mentoring": _("Mentoring / consultation"),
        "transfer": _("Into practice"),
        "reflection": _("Reflection"),
        "custom": _("Methodist's task"),
    }.get(kind, kind)


def status_label(status: str) -> str:
    return {
        "planned": _("planned"),
        "in_progress": _("in progress"),
        "done": _("done"),
        "skipped": _("skipped"),
    }.get(status, status)


def pace_label(pace: str) -> str:
    return {"intensive": _("intensive"), "normal": _("normal"), "relaxed": _("relaxed")}.get(
        pace, pace
    )


def _title(step: RouteStep, lang: str) -> str:
    return str(step.content["title"]["en" if lang == "en" else "ru"])


def _date(value: date) -> str:
    return value.strftime("%d.%m.%Y")


async def _latest_result(repo: Repo, user_id: int) -> tuple[int, AssessmentResult] | None:
    finished = [a for a in await repo.assessments.finished(user_id) if a.result]
    if not finished or finished[-1].result is None:
        return None
    return finished[-1].id, AssessmentResult.from_json(finished[-1].result)


# ------------------------------------------------------------------ building


async def _builder(
    event: Message | CallbackQuery,
    state: FSMContext,
    repo: Repo,
    user: User,
    framework: Framework,
    result: AssessmentResult,
) -> None:
    data = await state.get_data()
    chosen = list(data.get("route_choice", []))
    lang = user.language
    buttons = []
    for item in result.scores:
        comp = framework.competency(item.code)
        mark = "✅ " if item.code in chosen else ""
        buttons.append(
            [
                button(
                    f"{mark}{comp.title.text(lang)} · {item.score}",
                    BuildCb(action="toggle", code=item.code),
                )
            ]
        )
    current = await repo.routes.active(user.id)
    chosen_pace = current.pace if current is not None else Pace.NORMAL.value
    buttons.append(
        [
            button(
                ("⚡ " if p.value == chosen_pace else "") + pace_label(p.value),
                BuildCb(action="start", code=p.value),
            )
            for p in Pace
        ]
    )
    if await repo.routes.archived_count(user.id):
        buttons.append([button(_("🗂 Past routes"), PastCb())])
    text = (
        _(
            "🧭 <b>Your individual educational route</b>\n\n"
            "I suggest the competencies with the largest gaps (marked ✅). Tap to add or remove "
            "one, then choose a pace to build the route: intensive (short deadlines), normal, or relaxed."
        )
        if result.deficits
        else _(
            "🧭 <b>Your individual educational route</b>\n\n"
            "You have no deficits: I suggest your weakest competency to grow further (marked ✅). "
            "Tap to add or remove one, then choose a pace to build the route: intensive "
            "(short deadlines), normal, or relaxed."
        )
    )
    await show(event, text, InlineKeyboardMarkup(inline_keyboard=buttons))


async def start_builder(
    event: Message | CallbackQuery,
    state: FSMContext,
    repo: Repo,
    user: User,
    replace: int | None = None,
) -> None:
    """The route builder; `replace` is the id of the current route the teacher agreed to
    replace (without it a current route is never archived)."""
    latest = await _latest_result(repo, user.id)
    if latest is None:
        await show(
            event,
            _("First take the self-assessment: the route is built from its results. Send /assess."),
        )
        return
    framework = await repo.frameworks.get(latest[1].framework_version)
    assert framework is not None
    await state.set_state(None)
    await state.set_data(
        {
            "route_choice": list(default_competencies(latest[1], framework.settings.route_size)),
            "replace": replace,
        }
    )
    await _builder(event, state, repo, user, framework, latest[1])


async def on_build(
    query: CallbackQuery,
    callback_data: BuildCb,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
    settings: Settings,
) -> None:
    db_user = await repo.users.require(user.id)
    latest = await _latest_result(repo, user.id)
    if latest is None:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    attempt_id, result = latest
    framework = await repo.frameworks.get(result.framework_version)
    assert framework is not None
    valid = {s.code for s in result.scores}
    chosen = [c for c in (await state.get_data()).get("route_choice", []) if c in valid]
    if callback_data.action == "toggle":
        if callback_data.code not in valid:
            await query.answer(_("This button is out of date."), show_alert=True)
            return
        chosen = list(
            adjust(chosen, drop=[callback_data.code])
            if callback_data.code in chosen
            else adjust(chosen, add=[callback_data.code])
        )
        await state.update_data(route_choice=chosen)
        await _builder(query, state, repo, db_user, framework, result)
        return
    try:
        pace = Pace(callback_data.code)
    except ValueError:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    if not chosen:
        await query.answer(_("Choose at least one competency."), show_alert=True)
        return
    current = await repo.routes.active(user.id)
    if current is not None and (await state.get_data()).get("replace") != current.id:
        await ask_replace(query, current)  # never archive a route without asking
        return
    young = is_young_teacher(db_user.age_band, db_user.experience_years)
    muni = await repo.reference.municipality(db_user.municipality_id or 0)
    planned = build_route(
        framework,
        chosen,
        young=young,
        pace=pace,
        start=datetime.now(settings.tz).date(),
        region_names=(muni.region_ru, muni.region_en) if muni else (),
    )
    steps = []
    for position, item in enumerate(planned, start=1):
        template = item.template
        steps.append(
            RouteStep(
                position=position,
                competency=item.competency,
                number=item.number,
                kind=template.kind.value,
                target_date=item.target,
                status=StepStatus.PLANNED.value,
                content={
                    "title": {"ru": template.title.ru, "en": template.title.en},
                    "what": {"ru": template.what.ru, "en": template.what.en},
                    "how": {"ru": template.how.ru, "en": template.how.en},
                    "competency": {
                        "ru": framework.competency(item.competency).title.ru,
                        "en": framework.competency(item.competency).title.en,
                    },
                    "resources": [
                        {"title": {"ru": r.title.ru, "en": r.title.en}, "url": r.url}
                        for r in item.resources
                    ],
                },
            )
        )
    route = await repo.routes.create(user.id, attempt_id, pace.value, steps)
    await repo.audit.record("route_built", actor=db_user, route_id=route.id, steps=len(steps))
    await state.clear()
    await show_overview(query, repo, db_user, route)


# ------------------------------------------------------------------ walking


def overview_text(route: Route, lang: str, *, own: bool = True) -> str:
    """The route summary; `own=False` speaks about the teacher (the methodist's view)."""
    steps = route.steps
    statuses = [StepStatus(s.status) for s in steps]
    total = progress_share(statuses)
    done = sum(1 for s in statuses if s.closed)
    heading = (
        _("🧭 <b>My route</b> · pace: {pace}")
        if own
        else _("🧭 <b>Teacher's route</b> · pace: {pace}")
    )
    lines = [
        heading.format(pace=pace_label(route.pace)),
        _("Overall {bar} {percent}% · {done} of {total} steps").format(
            bar=progress_bar(total), percent=total, done=done, total=len(steps)
        ),
        "",
    ]
    for code in dict.fromkeys(s.competency for s in steps):
        track = [s for s in steps if s.competency == code]
        share = progress_share([StepStatus(s.status) for s in track])
        title = str(
            track[0].content.get("competency", {}).get("en" if lang == "en" else "ru", code)
        )
        closed = sum(1 for s in track if StepStatus(s.status).closed)
        lines.append(f"<b>{h(title)}</b>\n{progress_bar(share)} {closed}/{len(track)}")
    upcoming = next((s for s in steps if not StepStatus(s.status).closed), None)
    lines.append("")
    if upcoming is None:
        lines.append(_("🎉 All steps are done. Congratulations!"))
    else:
        lines.append(
            _("▶️ Next: <b>{title}</b> — by {date}").format(
                title=h(_title(upcoming, lang)), date=_date(upcoming.target_date)
            )
        )
    return "\n".join(lines)


def overview_keyboard(route: Route, lang: str, past: int = 0) -> InlineKeyboardMarkup:
    buttons = []
    upcoming = next((s for s in route.steps if not StepStatus(s.status).closed), None)
    if upcoming is not None:
        buttons.append(
            [button(_("▶️ Open the next step"), RouteCb(action="step", step=upcoming.id))]
        )
    comps = list(dict.fromkeys(s.competency for s in route.steps))
    comp_buttons = []
    for code in comps:
        first = next(s for s in route.steps if s.competency == code)
        title = str(first.content.get("competency", {}).get("en" if lang == "en" else "ru", code))
        comp_buttons.append(button("📂 " + shorten(title, 40), RouteCb(action="comp", code=code)))
    buttons += rows(comp_buttons, 1)
    buttons.append(
        [
            button(_("📄 Download as PDF"), RouteCb(action="export")),
            button(_("🔄 New route"), ResultCb(action="route")),
        ]
    )
    if past:
        buttons.append([button(_("🗂 Past routes ({n})").format(n=past), PastCb())])
    return InlineKeyboardMarkup(inline_keyboard=buttons)


async def show_overview(
    event: Message | CallbackQuery, repo: Repo, user: User, route: Route
) -> None:
    past = await repo.routes.archived_count(user.id)
    await show_long(
        event,
        overview_text(route, user.language).split("\n"),
        overview_keyboard(route, user.language, past),
    )


async def cmd_route(message: Message, state: FSMContext, repo: Repo, user: UserContext) -> None:
    db_user = await repo.users.require(user.id)
    route = await repo.routes.active(user.id)
    if route is None:
        await start_builder(message, state, repo, db_user)
        return
    await show_overview(message, repo, db_user, route)


async def on_route_from_results(
    query: CallbackQuery, state: FSMContext, repo: Repo, user: UserContext
) -> None:
    """🧭 Build my route / 🔄 New route: with a current route, ask before replacing it."""
    current = await repo.routes.active(user.id)
    if current is not None:
        await ask_replace(query, current)
        return
    db_user = await repo.users.require(user.id)
    await start_builder(query, state, repo, db_user)


async def ask_replace(query: CallbackQuery, route: Route) -> None:
    statuses = [StepStatus(s.status) for s in route.steps]
    done = sum(1 for s in statuses if s.closed)
    evidence = sum(1 for s in route.steps if s.evidence_text or s.evidence_file_id)
    text = _(
        "🧭 <b>You already have a route</b>: {done} of {total} steps done, evidence for {evidence}.\n\n"
        "A new route replaces it. The current one is not lost: it goes to the archive with its "
        "steps, evidence and comments (🗂 Past routes) and can no longer be changed.\n\n"
        "Build a new route?"
    ).format(done=done, total=len(statuses), evidence=evidence)
    await show(
        query,
        text,
        InlineKeyboardMarkup(
            inline_keyboard=[
                [button(_("✅ Yes, a new route"), ReplaceCb(confirm=True, route=route.id))],
                [button(_("✖️ Keep the current one"), ReplaceCb(confirm=False, route=route.id))],
            ]
        ),
    )


async def on_replace(
    query: CallbackQuery,
    callback_data: ReplaceCb,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
) -> None:
    db_user = await repo.users.require(user.id)
    current = await repo.routes.active(user.id)
    if current is None or current.id != callback_data.route:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    if callback_data.confirm:
        await start_builder(query, state, repo, db_user, replace=current.id)
    else:
        await show_overview(query, repo, db_user, current)


# ------------------------------------------------------------------ earlier routes


def route_blocks(route: Route, lang: str, tz: tzinfo) -> list[str]:
    """An archived route as read-only blocks: its steps, marks, evidence and reflection."""
    statuses = [StepStatus(s.status) for s in route.steps]
    blocks = [
        _(
            "🗂 <b>Route of {date}</b> (archive) · pace: {pace} · {done} of {total} steps done"
        ).format(
            date=route.created_at.astimezone(tz).strftime("%d.%m.%Y"),
            pace=pace_label(route.pace),
            done=sum(1 for s in statuses if s.closed),
            total=len(statuses),
        )
    ]
    key = "en" if lang == "en" else "ru"
    for code in dict.fromkeys(s.competency for s in route.steps):
        track = [s for s in route.steps if s.competency == code]
        blocks += ["", f"<b>{h(track[0].content.get('competency', {}).get(key, code))}</b>"]
        for s in track:
            icon = STATUS_ICON.get(StepStatus(s.status), "⬜")
            blocks.append(f"{icon} {s.number}. {h(_title(s, lang))} — {_date(s.target_date)}")
            if s.evidence_text or s.evidence_file_name:
                blocks.append(
                    "   "
                    + _("<b>Evidence:</b> {text}").format(
                        text=h(s.evidence_text or s.evidence_file_name or "")
                    )
                )
            if s.reflection:
                blocks.append("   " + _("<b>Reflection:</b> {text}").format(text=h(s.reflection)))
    return blocks


def past_list_text(routes: list[Route], tz: tzinfo) -> tuple[str, list[tuple[str, int]]]:
    """The heading and one (label, route id) per earlier route, newest first."""
    items = []
    for route in routes:
        closed = sum(1 for s in route.steps if StepStatus(s.status).closed)
        items.append(
            (
                _("🗂 {date} · {done} of {total} steps").format(
                    date=route.created_at.astimezone(tz).strftime("%d.%m.%Y"),
                    done=closed,
                    total=len(route.steps),
                ),
                route.id,
            )
        )
    text = _("🗂 <b>Past routes</b> ({n}). They are kept read-only with their evidence.").format(
        n=len(routes)
    )
    return text, items


async def on_past(
    query: CallbackQuery,
    callback_data: PastCb,
    repo: Repo,
    user: UserContext,
    settings: Settings,
) -> None:
    back = [button(_("⬅️ To the route"), RouteCb(action="overview"))]
    has_current = await repo.routes.active(user.id) is not None
    if callback_data.route == 0:
        routes = await repo.routes.archived(user.id)
        if not routes:
            await query.answer(_("No earlier routes."), show_alert=True)
            return
        text, items = past_list_text(routes, settings.tz)
        buttons = [[button(label, PastCb(route=route_id))] for label, route_id in items]
        if has_current:
            buttons.append(back)
        await show(query, text, InlineKeyboardMarkup(inline_keyboard=buttons))
        return
    route = await repo.routes.get(callback_data.route)
    if route is None or route.user_id != user.id or route.status != "archived":
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    buttons = [[button(_("⬅️ Past routes"), PastCb())]]
    if has_current:
        buttons.append(back)
    await show_long(
        query,
        route_blocks(route, user.language, settings.tz),
        InlineKeyboardMarkup(inline_keyboard=buttons),
    )


async def _own_route(query: CallbackQuery, repo: Repo, user: UserContext) -> Route | None:
    route = await repo.routes.active(user.id)
    if route is None:
        await query.answer(_("This button is out of date."), show_alert=True)
    return route


async def _own_step(
    query: CallbackQuery, repo: Repo, user: UserContext, step_id: int
) -> RouteStep | None:
    step = await repo.routes.step(step_id)
    if step is None or step.route.user_id != user.id or step.route.status == "archived":
        await query.answer(_("This button is out of date."), show_alert=True)
        return None
    return step


def step_text(step: RouteStep, lang: str) -> str:
    key = "en" if lang == "en" else "ru"
    content = step.content
    lines = [
        f"{STATUS_ICON.get(StepStatus(step.status), '⬜')} <b>{h(content['title'][key])}</b>",
        f"{h(content.get('competency', {}).get(key, step.competency))} · {kind_label(step.kind)} · "
        + _("by {date}").format(date=_date(step.target_date))
        + f" · {status_label(step.status)}",
        "",
        _("<b>What and why.</b> {text}").format(text=h(content["what"][key])),
        _("<b>How.</b> {text}").format(text=h(content["how"][key])),
    ]
    resources = content.get("resources") or []
    if resources:
        links = [f'• <a href="{h(r["url"])}">{h(r["title"][key])}</a>' for r in resources]
        lines += ["", _("<b>Materials:</b>"), *links]
    if step.evidence_text or step.evidence_file_name:
        lines += [
            "",
            _("<b>Evidence:</b> {text}").format(
                text=h(step.evidence_text or step.evidence_file_name or "")
            ),
        ]
    if step.reflection:
        lines.append(_("<b>Reflection:</b> {text}").format(text=h(step.reflection)))
    return "\n".join(lines)


def step_keyboard(step: RouteStep) -> InlineKeyboardMarkup:
    status = StepStatus(step.status)
    actions = []
    if status is not StepStatus.IN_PROGRESS and not status.closed:
        actions.append(
            button(_("🔄 I'm on it"), RouteCb(action="status", step=step.id, status="in_progress"))
        )
    if status is not StepStatus.DONE:
        actions.append(button(_("✅ Done"), RouteCb(action="status", step=step.id, status="done")))
    if not status.closed:
        actions.append(
            button(_("⏭ Skip"), RouteCb(action="status", step=step.id, status="skipped"))
        )
    if status.closed:
        actions.append(
            button(_("↩️ Reopen"), RouteCb(action="status", step=step.id, status="planned"))
        )
    return InlineKeyboardMarkup(
        inline_keyboard=[actions, [button(_("⬅️ To the route"), RouteCb(action="overview"))]]
    )


async def on_overview(query: CallbackQuery, repo: Repo, user: UserContext) -> None:
    route = await _own_route(query, repo, user)
    if route is None:
        return
    db_user = await repo.users.require(user.id)
    await show_overview(query, repo, db_user, route)


async def on_competency(
    query: CallbackQuery, callback_data: RouteCb, repo: Repo, user: UserContext
) -> None:
    route = await _own_route(query, repo, user)
    if route is None:
        return
    track = [s for s in route.steps if s.competency == callback_data.code]
    if not track:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    lang = user.language
    key = "en" if lang == "en" else "ru"
    lines = [f"<b>{h(track[0].content.get('competency', {}).get(key, callback_data.code))}</b>", ""]
    buttons = []
    for s in track:
        icon = STATUS_ICON.get(StepStatus(s.status), "⬜")
        lines.append(f"{icon} {s.number}. {h(_title(s, lang))} — {_date(s.target_date)}")
        buttons.append(
            [
                button(
                    shorten(f"{icon} {s.number}. {_title(s, lang)}", 60),
                    RouteCb(action="step", step=s.id),
                )
            ]
        )
    buttons.append([button(_("⬅️ To the route"), RouteCb(action="overview"))])
    await show_long(query, lines, InlineKeyboardMarkup(inline_keyboard=buttons))


async def on_step(
    query: CallbackQuery,
    callback_data: RouteCb,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
    settings: Settings,
) -> None:
    if await state.get_state() in {Evidence.proof.state, Evidence.reflection.state}:
        await state.clear()  # ✖️ Cancel of the evidence prompt: stop waiting for evidence
    step = await _own_step(query, repo, user, callback_data.step)
    if step is None:
        return
    text = step_text(step, user.language)
    markup = step_keyboard(step)
    sessions = (
        await matching_events(repo, await repo.users.require(user.id), step)
        if not StepStatus(step.status).closed
        else []
    )
    if sessions:
        text += "\n\n" + _("<b>Upcoming sessions for this step:</b>")
        for event in sessions:
            start = event.starts_at.astimezone(settings.tz)
            markup.inline_keyboard.insert(
                -1,
                [
                    button(
                        shorten(f"📅 {start:%d.%m} · {event.title}", 60),
                        EvAct(action="card", event=event.id),
                    )
                ],
            )
    await show(query, text, markup)


async def matching_events(repo: Repo, user: User, step: RouteStep, limit: int = 3) -> list[Event]:
    """Upcoming events open to the teacher that would complete this step (same competency,
    a kind that maps to the step's kind)."""
    kinds = {kind.value for kind, step_kind in STEP_FOR_KIND.items() if step_kind == step.kind}
    if not kinds:
        return []
    page, _total = await repo.events.for_teacher(
        TeacherEvents(
            now=utcnow(),
            municipality_id=user.municipality_id,
            position=user.position_code,
            subjects=tuple(await repo.users.subject_codes(user.id)),
            competency=step.competency,
            kinds=tuple(sorted(kinds)),
        ),
        0,
        limit,
    )
    return list(page.items)


async def on_status(
    query: CallbackQuery,
    callback_data: RouteCb,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
    bot: Bot,
) -> None:
    step = await _own_step(query, repo, user, callback_data.step)
    if step is None:
        return
    try:
        status = StepStatus(callback_data.status)
    except ValueError:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    if status is StepStatus.DONE:
        await state.set_state(Evidence.proof)
        await state.set_data({"step": step.id})
        await show(
            query,
            _(
                "✅ Great! Send evidence of this step: a short text, a link or a file (a photo, a document)."
            ),
            InlineKeyboardMarkup(
                inline_keyboard=[[button(_("✖️ Cancel"), RouteCb(action="step", step=step.id))]]
            ),
        )
        return
    await repo.routes.set_status(step, status)
    await show(query, step_text(step, user.language), step_keyboard(step))
    if step.route.status == "completed":
        assert query.message is not None
        await bot.send_message(query.message.chat.id, route_complete_text())


async def got_proof(message: Message, state: FSMContext, repo: Repo, user: UserContext) -> None:
    data = await state.get_data()
    step = await repo.routes.step(int(data.get("step", 0)))
    if step is None or step.route.user_id != user.id:
        await state.clear()
        await message.answer(_("This step is no longer available."))
        return
    if message.document is not None:
        await state.update_data(
            file_id=message.document.file_id, file_name=message.document.file_name or "document"
        )
    elif message.photo:
        await state.update_data(file_id=message.photo[-1].file_id, file_name="photo.jpg")
    elif message.text and message.text.strip():
        text = message.text.strip()
        if len(text) > EVIDENCE_MAX:
            await message.answer(_("Please keep it within {n} characters.").format(n=EVIDENCE_MAX))
            return
        await state.update_data(text=text)
    else:
        await message.answer(_("Please send a text, a link, a photo or a document."))
        return
    await state.set_state(Evidence.reflection)
    await message.answer(
        _("Thank you! And one line of reflection: what has changed in your practice?")
    )


async def got_reflection(
    message: Message, state: FSMContext, repo: Repo, user: UserContext
) -> None:
    text = (message.text or "").strip()
    if not text:
        await message.answer(_("Please answer with a line of text."))
        return
    if len(text) > REFLECTION_MAX:
        await message.answer(_("Please keep it within {n} characters.").format(n=REFLECTION_MAX))
        return
    data = await state.get_data()
    step = await repo.routes.step(int(data.get("step", 0)))
    await state.clear()
    if step is None or step.route.user_id != user.id:
        await message.answer(_("This step is no longer available."))
        return
    await repo.routes.record_evidence(
        step,
        text=data.get("text"),
        file_id=data.get("file_id"),
        file_name=data.get("file_name"),
        reflection=text,
    )
    route = step.route
    await message.answer(step_text(step, user.language), reply_markup=step_keyboard(step))
    if route.status == "completed":
        await message.answer(route_complete_text())


def route_complete_text() -> str:
    return _(
        "🎉 Your route is complete! Congratulations on the work done. A new self-assessment will show how your profile has changed: /assess"
    )


async def on_export(
    query: CallbackQuery, repo: Repo, user: UserContext, bot: Bot, settings: Settings
) -> None:
    route = await _own_route(query, repo, user)
    if route is None:
        return
    full = await repo.users.get_full(user.id)
    assert full is not None and query.message is not None
    await query.answer()
    lang = full.language
    key = "en" if lang == "en" else "ru"
    latest = await _latest_result(repo, user.id)
    framework = await repo.frameworks.get(latest[1].framework_version) if latest else None
    blocks: list[RouteCompetencyBlock] = []
    for code in dict.fromkeys(s.competency for s in route.steps):
        track = [s for s in route.steps if s.competency == code]
        score_line = ""
        if (
            latest is not None
            and framework is not None
            and any(sc.code == code for sc in latest[1].scores)
        ):
            item = latest[1].score_of(code)
            score_line = _("{level} level, {score} of 100").format(
                level=framework.level_for(item.score).name.text(lang), score=item.score
            )
        blocks.append(
            RouteCompetencyBlock(
                title=str(track[0].content.get("competency", {}).get(key, code)),
                score_line=score_line,
                steps=[
                    RouteStepRow(
                        number=f"{len(blocks) + 1}.{s.number}",
                        title=_title(s, lang),
                        kind=kind_label(s.kind),
                        target_date=_date(s.target_date),
                        status=status_label(s.status),
                        done=s.status == StepStatus.DONE.value,
                    )
                    for s in track
                ],
            )
        )
    statuses = [StepStatus(s.status) for s in route.steps]
    doc = RouteDocument(
        heading=_("Individual educational route of a teacher"),
        teacher_lines=[
            (_("Full name"), full.full_name or "—"),
            (_("School"), full.school.name if full.school else "—"),
            (_("Municipality"), full.municipality.name(lang) if full.municipality else "—"),
            (_("Position"), full.position.name(lang) if full.position else "—"),
        ],
        meta_line=_("Built {date} · pace: {pace} · {done} of {total} steps done").format(
            date=route.created_at.astimezone(settings.tz).strftime("%d.%m.%Y"),
            pace=pace_label(route.pace),
            done=sum(1 for s in statuses if s.closed),
            total=len(statuses),
        ),
        blocks=blocks,
        column_titles=("№", _("Step"), _("Form"), _("Due"), _("Status")),
        footer=_(
            "Made by the methodological support bot · teacher's signature ________ · methodist's signature ________"
        ),
    )
    pdf = await asyncio.to_thread(route_pdf, doc, created=route.created_at.astimezone(settings.tz))
    await bot.send_document(
        query.message.chat.id,
        BufferedInputFile(pdf, filename="route.pdf"),
        caption=_("📄 Your route as a one-page document for your school."),
    )


def make_router() -> Router:
    router = Router(name="route")
    needs = {"needs": "profile"}
    # typed answers first: a command or a menu button sent instead ends the prompt (TypedAnswer)
    router.message.register(got_proof, Evidence.proof, TypedAnswer())
    router.message.register(got_reflection, Evidence.reflection, TypedAnswer())
    router.message.register(cmd_route, Command("route"), flags=needs)
    router.message.register(cmd_route, F.text == MENU_ROUTE, flags=needs)
    router.callback_query.register(
        on_route_from_results, ResultCb.filter(F.action == "route"), flags=needs
    )
    router.callback_query.register(on_build, BuildCb.filter(), flags=needs)
    router.callback_query.register(on_overview, RouteCb.filter(F.action == "overview"), flags=needs)
    router.callback_query.register(on_competency, RouteCb.filter(F.action == "comp"), flags=needs)
    router.callback_query.register(on_step, RouteCb.filter(F.action == "step"), flags=needs)
    router.callback_query.register(on_status, RouteCb.filter(F.action == "status"), flags=needs)
    router.callback_query.register(
        on_export, RouteCb.filter(F.action == "export"), flags={**needs, "cost": 4}
    )
    router.callback_query.register(on_replace, ReplaceCb.filter(), flags=needs)
    router.callback_query.register(on_past, PastCb.filter(), flags=needs)
    return router
