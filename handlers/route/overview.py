"""The route's overview with progress by competency, and one competency's steps."""

from __future__ import annotations

from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from core.usercache import UserContext
from db.models import Route
from db.repo import Repo
from domain.route import StepStatus, progress_bar, progress_share
from domain.typography import shorten
from handlers.formatting import show_long
from handlers.route.common import STATUS_ICON, pace_label, stale, step_title
from services import route as service
from services.route import Overview, Refusal
from ui.callbacks.assessment import ResultAction, ResultCb
from ui.callbacks.route import PastCb, RouteAction, RouteCb
from ui.formatting import date_text, h
from ui.keyboards.common import button, rows


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
                title=h(step_title(upcoming, lang)), date=date_text(upcoming.target_date)
            )
        )
    return "\n".join(lines)


def overview_keyboard(route: Route, lang: str, past: int = 0) -> InlineKeyboardMarkup:
    buttons = []
    upcoming = next((s for s in route.steps if not StepStatus(s.status).closed), None)
    if upcoming is not None:
        buttons.append(
            [button(_("▶️ Open the next step"), RouteCb(action=RouteAction.STEP, step=upcoming.id))]
        )
    comps = list(dict.fromkeys(s.competency for s in route.steps))
    comp_buttons = []
    for code in comps:
        first = next(s for s in route.steps if s.competency == code)
        title = str(first.content.get("competency", {}).get("en" if lang == "en" else "ru", code))
        comp_buttons.append(
            button("📂 " + shorten(title, 40), RouteCb(action=RouteAction.COMP, code=code))
        )
    buttons += rows(comp_buttons, 1)
    buttons.append(
        [
            button(_("📄 Download as PDF"), RouteCb(action=RouteAction.EXPORT)),
            button(_("🔄 New route"), ResultCb(action=ResultAction.ROUTE)),
        ]
    )
    if past:
        buttons.append([button(_("🗂 Past routes ({n})").format(n=past), PastCb())])
    return InlineKeyboardMarkup(inline_keyboard=buttons)


async def show_overview(event: Message | CallbackQuery, found: Overview, lang: str) -> None:
    await show_long(
        event,
        overview_text(found.route, lang).split("\n"),
        overview_keyboard(found.route, lang, found.past),
    )


async def on_overview(query: CallbackQuery, repo: Repo, user: UserContext) -> None:
    found = await service.overview(repo, user.id)
    if isinstance(found, Refusal):
        await stale(query)
        return
    await show_overview(query, found, user.language)


async def on_competency(
    query: CallbackQuery, callback_data: RouteCb, repo: Repo, user: UserContext
) -> None:
    track = await service.competency_steps(repo, user.id, callback_data.code)
    if isinstance(track, Refusal):
        await stale(query)
        return
    lang = user.language
    key = "en" if lang == "en" else "ru"
    lines = [f"<b>{h(track[0].content.get('competency', {}).get(key, callback_data.code))}</b>", ""]
    buttons = []
    for s in track:
        icon = STATUS_ICON.get(StepStatus(s.status), "⬜")
        lines.append(f"{icon} {s.number}. {h(step_title(s, lang))} — {date_text(s.target_date)}")
        buttons.append(
            [
                button(
                    shorten(f"{icon} {s.number}. {step_title(s, lang)}", 60),
                    RouteCb(action=RouteAction.STEP, step=s.id),
                )
            ]
        )
    buttons.append([button(_("⬅️ To the route"), RouteCb(action=RouteAction.OVERVIEW))])
    await show_long(query, lines, InlineKeyboardMarkup(inline_keyboard=buttons))
