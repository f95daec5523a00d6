"""Building a route: /route and the menu button, the builder (competencies and pace), and the
question before a new route replaces the current one."""

from __future__ import annotations

from datetime import tzinfo

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from core.clock import Clock
from core.usercache import UserContext
from db.repo import Repo
from domain.route import Pace
from handlers.common import show
from handlers.route.common import pace_label, stale
from handlers.route.overview import show_overview
from services import route as service
from services.route import Builder, Overview, Refusal, ReplaceQuestion
from ui.callbacks.route import BuildAction, BuildCb, PastCb, ReplaceCb
from ui.keyboards.common import button


async def _show_builder(event: Message | CallbackQuery, builder: Builder, lang: str) -> None:
    framework, result = builder.framework, builder.result
    buttons = []
    for item in result.scores:
        comp = framework.competency(item.code)
        mark = "✅ " if item.code in builder.chosen else ""
        buttons.append(
            [
                button(
                    f"{mark}{comp.title.text(lang)} · {item.score}",
                    BuildCb(action=BuildAction.TOGGLE, code=item.code),
                )
            ]
        )
    buttons.append(
        [
            button(
                ("⚡ " if p is builder.pace else "") + pace_label(p.value),
                BuildCb(action=BuildAction.START, code=p.value),
            )
            for p in Pace
        ]
    )
    if builder.has_past:
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


async def _start_builder(
    event: Message | CallbackQuery, state: FSMContext, builder: Builder | Refusal, lang: str
) -> None:
    """A fresh builder: its choice and the route it may replace are kept in the FSM data."""
    if isinstance(builder, Refusal):  # NO_RESULT: the route is built from the results
        await show(
            event,
            _("First take the self-assessment: the route is built from its results. Send /assess."),
        )
        return
    await state.set_state(None)
    await state.set_data({"route_choice": list(builder.chosen), "replace": builder.replace})
    await _show_builder(event, builder, lang)


async def _show_replace(query: CallbackQuery, question: ReplaceQuestion) -> None:
    text = _(
        "🧭 <b>You already have a route</b>: {done} of {total} steps done, evidence for {evidence}.\n\n"
        "A new route replaces it. The current one is not lost: it goes to the archive with its "
        "steps, evidence and comments (🗂 Past routes) and can no longer be changed.\n\n"
        "Build a new route?"
    ).format(done=question.done, total=question.total, evidence=question.evidence)
    route_id = question.route_id
    await show(
        query,
        text,
        InlineKeyboardMarkup(
            inline_keyboard=[
                [button(_("✅ Yes, a new route"), ReplaceCb(confirm=True, route=route_id))],
                [button(_("✖️ Keep the current one"), ReplaceCb(confirm=False, route=route_id))],
            ]
        ),
    )


async def on_build(
    query: CallbackQuery,
    callback_data: BuildCb,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
    tz: tzinfo,
    clock: Clock,
) -> None:
    data = await state.get_data()
    chosen = list(data.get("route_choice", []))
    replace = data.get("replace")
    if callback_data.action == BuildAction.TOGGLE:
        builder = await service.toggle(repo, user.id, chosen, callback_data.code, replace)
        if isinstance(builder, Refusal):
            await stale(query)
            return
        await state.update_data(route_choice=list(builder.chosen))
        await _show_builder(query, builder, user.language)
        return
    built = await service.build(
        repo,
        user.id,
        chosen,
        callback_data.code,
        replace,
        clock.now().astimezone(tz).date(),
        clock.now(),
    )
    if built is Refusal.NOTHING_CHOSEN:
        await query.answer(_("Choose at least one competency."), show_alert=True)
    elif isinstance(built, Refusal):
        await stale(query)
    elif isinstance(built, ReplaceQuestion):
        await _show_replace(query, built)  # never archive a route without asking
    else:
        await state.clear()
        await show_overview(query, built, user.language)


async def cmd_route(message: Message, state: FSMContext, repo: Repo, user: UserContext) -> None:
    found = await service.home(repo, user.id)
    if isinstance(found, Overview):
        await show_overview(message, found, user.language)
        return
    await _start_builder(message, state, found, user.language)


async def on_route_from_results(
    query: CallbackQuery, state: FSMContext, repo: Repo, user: UserContext
) -> None:
    """🧭 Build my route / 🔄 New route: with a current route, ask before replacing it."""
    found = await service.from_results(repo, user.id)
    if isinstance(found, ReplaceQuestion):
        await _show_replace(query, found)
        return
    await _start_builder(query, state, found, user.language)


async def on_replace(
    query: CallbackQuery,
    callback_data: ReplaceCb,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
) -> None:
    found = await service.answer_replace(repo, user.id, callback_data.route, callback_data.confirm)
    if found is Refusal.STALE:
        await stale(query)
    elif isinstance(found, Overview):
        await show_overview(query, found, user.language)
    else:
        await _start_builder(query, state, found, user.language)
