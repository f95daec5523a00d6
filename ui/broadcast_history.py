"""How `/broadcasts` reads: the list of scheduled and past broadcasts, and a broadcast's card
with what can be done to it."""

from __future__ import annotations

from datetime import tzinfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from db.models import Broadcast
from domain.broadcasts import BroadcastState
from domain.pagination import Page
from ui.callbacks.broadcast_history import BcHist, BcHistAction
from ui.callbacks.broadcasts import BcAdmin, BcAdminAction
from ui.formatting import h, moment_text
from ui.keyboards.common import button, pager_row

H = BcHistAction

STATE_ICON = {
    BroadcastState.SCHEDULED: "🗓",
    BroadcastState.SENDING: "⏳",
    BroadcastState.DONE: "🏁",
    BroadcastState.STOPPED: "⏸",
    BroadcastState.CANCELLED: "🚫",
}


def _short(broadcast: Broadcast, limit: int = 40) -> str:
    text = " ".join(broadcast.preview.split()) or _("(no text)")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _moment(broadcast: Broadcast, tz: tzinfo) -> str:
    at = broadcast.started_at or broadcast.scheduled_at or broadcast.created_at
    return moment_text(at, tz)


def history_text(
    scheduled: list[Broadcast],
    past: list[Broadcast],
    delivered: dict[int, int],
    tz: tzinfo,
    *,
    everyone: bool,
) -> str:
    lines = [_("📜 <b>All broadcasts</b>") if everyone else _("📜 <b>Your broadcasts</b>")]
    if not scheduled and not past:
        lines.append(_("There are no broadcasts yet. Send /broadcast to start one."))
        return "\n".join(lines)
    if scheduled:
        lines.append("")
        lines.append(_("🗓 <b>Scheduled</b>"))
        for b in scheduled:
            lines.append(
                _("#{id} · {at} · «{text}»").format(id=b.id, at=_moment(b, tz), text=h(_short(b)))
            )
    if past:
        lines.append("")
        lines.append(_("🗂 <b>Earlier</b>"))
        for b in past:
            state = BroadcastState(b.state)
            if state is BroadcastState.CANCELLED:
                count = _("cancelled before the start")
            else:
                count = _("{sent} of {total} delivered").format(
                    sent=delivered.get(b.id, 0), total=b.total
                )
            line = _("#{id} · {at} · {count} · «{text}»").format(
                id=b.id, at=_moment(b, tz), count=count, text=h(_short(b))
            )
            lines.append(f"{STATE_ICON[state]} {line}")
    lines.append("")
    lines.append(_("Tap a broadcast to see its report."))
    return "\n".join(lines)


def history_markup(
    scheduled: list[Broadcast], past: list[Broadcast], page: Page[Broadcast], tz: tzinfo
) -> InlineKeyboardMarkup:
    buttons = [
        button(
            f"{STATE_ICON[BroadcastState(b.state)]} #{b.id} · {_moment(b, tz)}",
            BcHist(action=H.OPEN, bc=b.id, page=page.page),
        )
        for b in [*scheduled, *past]
    ]
    keyboard = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    pager = pager_row(page, lambda n: BcHist(action=H.LIST, page=n))
    if pager:
        keyboard.append(pager)
    return InlineKeyboardMarkup(inline_keyboard=keyboard)


def card_markup(
    broadcast: Broadcast, failed: int, page: int, *, can_show: bool
) -> InlineKeyboardMarkup:
    """What can be done: a scheduled one changed or cancelled, a running one stopped; the
    message shown again; why copies failed; back to the list."""
    state = BroadcastState(broadcast.state)

    def act(action: BcHistAction) -> BcHist:
        return BcHist(action=action, bc=broadcast.id, page=page)

    keyboard: list[list[InlineKeyboardButton]] = []
    if state is BroadcastState.SCHEDULED:
        keyboard.append([button(_("🕒 Change the time"), act(H.TIME))])
        if can_show:
            keyboard.append([button(_("✏️ Replace the message"), act(H.EDIT))])
        keyboard.append([button(_("🚫 Cancel the broadcast"), act(H.CANCEL))])
    elif state is BroadcastState.SENDING:
        stop = BcAdmin(action=BcAdminAction.STOP, bc=broadcast.id)
        keyboard.append([button(_("⏸ Stop"), stop), button(_("🔄 Refresh"), act(H.OPEN))])
    if failed:
        keyboard.append([button(_("⚠️ Why not delivered"), act(H.REASONS))])
    if can_show:
        keyboard.append([button(_("👁 Show the message"), act(H.SHOW))])
    keyboard.append([button(_("⬅️ All broadcasts"), BcHist(action=H.LIST, page=page))])
    return InlineKeyboardMarkup(inline_keyboard=keyboard)


def confirm_cancel_markup(broadcast: Broadcast, page: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button(
                    _("🚫 Yes, cancel it"), BcHist(action=H.CANCEL_OK, bc=broadcast.id, page=page)
                ),
                button(_("⬅️ No, keep it"), BcHist(action=H.OPEN, bc=broadcast.id, page=page)),
            ]
        ]
    )


def back_markup(broadcast_id: int, page: int) -> InlineKeyboardMarkup:
    """Under a prompt (a new time, a new message): back to the card, nothing changed."""
    return InlineKeyboardMarkup(
        inline_keyboard=[[button(_("✖️ Cancel"), BcHist(action=H.OPEN, bc=broadcast_id, page=page))]]
    )
