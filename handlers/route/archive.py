"""Past (archived) routes: the list and one route's read-only card."""

from __future__ import annotations

from datetime import tzinfo

from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from core.usercache import UserContext
from db.models import Route
from db.repo import Repo
from domain.route import StepStatus
from handlers.common import show
from handlers.formatting import show_long
from handlers.route.common import STATUS_ICON, pace_label, step_title
from services import route as service
from services.route import Refusal
from ui.callbacks.route import PastCb, RouteAction, RouteCb
from ui.formatting import date_text, h
from ui.keyboards.common import button


def route_blocks(route: Route, lang: str, tz: tzinfo) -> list[str]:
    """An archived route as read-only blocks: its steps, marks, evidence and reflection."""
    statuses = [StepStatus(s.status) for s in route.steps]
    blocks = [
        _(
            "🗂 <b>Route of {date}</b> (archive) · pace: {pace} · {done} of {total} steps done"
        ).format(
            date=date_text(route.created_at, tz),
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
            blocks.append(
                f"{icon} {s.number}. {h(step_title(s, lang))} — {date_text(s.target_date)}"
            )
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
                    date=date_text(route.created_at, tz),
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
    tz: tzinfo,
) -> None:
    back = [button(_("⬅️ To the route"), RouteCb(action=RouteAction.OVERVIEW))]
    if callback_data.route == 0:
        found = await service.past_routes(repo, user.id)
        if isinstance(found, Refusal):
            await query.answer(_("No earlier routes."), show_alert=True)
            return
        text, items = past_list_text(list(found.routes), tz)
        buttons = [[button(label, PastCb(route=route_id))] for label, route_id in items]
        if found.has_current:
            buttons.append(back)
        await show(query, text, InlineKeyboardMarkup(inline_keyboard=buttons))
        return
    one = await service.past_route(repo, user.id, callback_data.route)
    if isinstance(one, Refusal):
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    buttons = [[button(_("⬅️ Past routes"), PastCb())]]
    if one.has_current:
        buttons.append(back)
    await show_long(
        query,
        route_blocks(one.route, user.language, tz),
        InlineKeyboardMarkup(inline_keyboard=buttons),
    )
