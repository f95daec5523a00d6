"""How a broadcast's progress and report read (the author's live message, the history)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from db.models import Broadcast
from domain.broadcasts import BroadcastState, Progress
from ui.callbacks.broadcasts import BcAdmin, BcAdminAction, BcOpen
from ui.formatting import h, moment_text
from ui.keyboards.common import button


def _title(broadcast: Broadcast) -> str:
    preview = " ".join(broadcast.preview.split())
    short = preview if len(preview) <= 60 else preview[:59].rstrip() + "…"
    return _("📣 Broadcast #{id}: «{text}»").format(id=broadcast.id, text=h(short))


def _rate(broadcast: Broadcast, progress: Progress, now: datetime) -> float:
    if broadcast.started_at is None:
        return 0.0
    seconds = (now - broadcast.started_at).total_seconds()
    return progress.sent / seconds if seconds > 0 else 0.0


def progress_text(broadcast: Broadcast, progress: Progress, now: datetime) -> str:
    """The live line: sent / failed / left, the rate and the time to the end."""
    lines = [
        _title(broadcast),
        _("✅ Sent: {sent} of {total} · ⚠️ not delivered: {failed} · ⏳ left: {left}").format(
            sent=progress.sent,
            total=progress.total,
            failed=progress.failed + progress.blocked,
            left=progress.left,
        ),
    ]
    rate = _rate(broadcast, progress, now)
    eta = progress.eta_seconds(rate)
    if rate > 0 and eta is not None and progress.left:
        lines.append(
            _("🚀 {rate} messages a second · about {minutes} min to go").format(
                rate=f"{rate:.1f}", minutes=max(1, round(eta / 60))
            )
        )
    if progress.muted:
        lines.append(_("🔕 Skipped (news muted): {n}").format(n=progress.muted))
    return "\n".join(lines)


def report_text(
    broadcast: Broadcast,
    progress: Progress,
    tz: tzinfo,
    *,
    failures: list[tuple[str, int]] | None = None,
    reach: tuple[int, int] | None = None,
) -> str:
    state = BroadcastState(broadcast.state)
    head = {
        BroadcastState.DONE: _("🏁 Finished"),
        BroadcastState.STOPPED: _("⏸ Stopped: the rest was not sent"),
        BroadcastState.SENDING: _("⏳ Sending"),
        BroadcastState.SCHEDULED: _("🗓 Scheduled"),
        BroadcastState.CANCELLED: _("🚫 Cancelled before it started"),
    }[state]
    lines = [_title(broadcast), head]
    if broadcast.started_at is not None:
        lines.append(_("Started: {at}").format(at=moment_text(broadcast.started_at, tz)))
    elif broadcast.scheduled_at is not None and state is BroadcastState.CANCELLED:
        lines.append(_("Was to start: {at}").format(at=moment_text(broadcast.scheduled_at, tz)))
    elif broadcast.scheduled_at is not None:
        lines.append(_("Starts: {at}").format(at=moment_text(broadcast.scheduled_at, tz)))
    if state is not BroadcastState.SCHEDULED and state is not BroadcastState.CANCELLED:
        lines += [
            _("👥 Recipients: {n}").format(n=progress.total),
            _("✅ Delivered: {n}").format(n=progress.sent),
            _("🚫 Blocked the bot: {n}").format(n=progress.blocked),
            _("⚠️ Failed: {n}").format(n=progress.failed),
            _("🔕 Skipped (news muted): {n}").format(n=progress.muted),
        ]
        if progress.dropped:
            lines.append(_("✖️ Not sent: {n}").format(n=progress.dropped))
    if reach is not None:
        lines.append(
            _("📅 Opened the event: {opened} · signed up within 7 days: {signed}").format(
                opened=reach[0], signed=reach[1]
            )
        )
    for reason, n in failures or []:
        lines.append(f"  · {h(reason[:120])} — {n}")
    return "\n".join(lines)


def progress_keyboard(
    broadcast: Broadcast, progress: Progress | None = None
) -> InlineKeyboardMarkup | None:
    """⏸ Stop while it goes out; then 📊 the report (and why some were not delivered)."""
    if broadcast.state == BroadcastState.SENDING.value:
        action = BcAdmin(action=BcAdminAction.STOP, bc=broadcast.id)
        return InlineKeyboardMarkup(inline_keyboard=[[button(_("⏸ Stop"), action)]])
    row = [button(_("📊 Report"), BcAdmin(action=BcAdminAction.REPORT, bc=broadcast.id))]
    if progress is not None and progress.failed:
        reasons = BcAdmin(action=BcAdminAction.REASONS, bc=broadcast.id)
        row.append(button(_("⚠️ Why not delivered"), reasons))
    return InlineKeyboardMarkup(inline_keyboard=[row])


def copy_rows(broadcast_id: int, buttons: Mapping[str, Any]) -> list[list[InlineKeyboardButton]]:
    """The buttons under a broadcast's copy ("📅 Open the event", the link), from its
    `Broadcast.buttons`; the wizard's preview shows the same (with broadcast id 0)."""
    rows = []
    event_id = buttons.get("event_id")
    if event_id is not None:
        rows.append([button(_("📅 Open the event"), BcOpen(bc=broadcast_id, event=int(event_id)))])
    url = buttons.get("url")
    if url:
        label = str(buttons.get("url_label") or "") or _("🔗 Open the link")
        rows.append([InlineKeyboardButton(text=label, url=str(url))])
    return rows
