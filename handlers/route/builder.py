"""Building a route: /route and the menu button, the builder (competencies and pace), and the
question before a new route replaces the current one."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from core.clock import Clock
from core.settings import Settings
from core.usercache import UserContext
from db.models import Route, RouteStep, User
from db.repo import Repo
from domain.assessment import AssessmentResult
from domain.framework import Framework
from domain.profile import is_young_teacher
from domain.route import Pace, StepStatus, adjust, build_route, default_competencies
from handlers.common import button, show
from handlers.route.callbacks import BuildCb, PastCb, ReplaceCb
from handlers.route.common import latest_result, pace_label
from handlers.route.overview import show_overview


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
    latest = await latest_result(repo, user.id)
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
    clock: Clock,
) -> None:
    db_user = await repo.users.require(user.id)
    latest = await latest_result(repo, user.id)
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
        start=clock.now().astimezone(settings.tz).date(),
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
