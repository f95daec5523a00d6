"""Broadcast messages at send time: the copy of the methodist's message (nothing once it was
stopped), the author's live progress (an edit of one message), started and finished notes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from db.models import Broadcast
from domain.broadcasts import BroadcastState
from domain.notices import NoticeKind
from outbox.rendered import RenderContext, Rendered, Renderer
from ui.broadcasts import copy_rows, progress_keyboard, progress_text, report_text


async def _broadcast(ctx: RenderContext, payload: Mapping[str, Any]) -> Broadcast | None:
    return await ctx.repo.broadcasts.get(int(payload["broadcast_id"]))


async def broadcast(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    """A copy of the methodist's own message, with the broadcast's buttons."""
    found = await _broadcast(ctx, payload)
    if found is None or found.state != BroadcastState.SENDING.value:
        return None
    rows = copy_rows(found.id, found.buttons)
    return Rendered(
        "",
        InlineKeyboardMarkup(inline_keyboard=rows) if rows else None,
        copy_of=(found.source_chat_id, found.source_message_id),
    )


async def progress(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    """The author's progress message, edited: live while it sends, the report at the end."""
    found = await _broadcast(ctx, payload)
    if found is None or found.progress_message_id is None or not found.source_chat_id:
        return None
    counts = await ctx.repo.broadcasts.progress(found)
    if found.state == BroadcastState.SENDING.value:
        text = progress_text(found, counts, ctx.now)
    else:
        text = report_text(found, counts, ctx.tz)
    return Rendered(
        text,
        progress_keyboard(found, counts),
        edit_of=(found.source_chat_id, found.progress_message_id),
    )


async def started(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    found = await _broadcast(ctx, payload)
    if found is None or found.state != BroadcastState.SENDING.value:
        return None
    counts = await ctx.repo.broadcasts.progress(found)
    return Rendered(
        _("🗓 Your scheduled broadcast has started.") + "\n" + progress_text(found, counts, ctx.now),
        progress_keyboard(found),
    )


async def done(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    found = await _broadcast(ctx, payload)
    if found is None or found.state == BroadcastState.SENDING.value:
        return None
    counts = await ctx.repo.broadcasts.progress(found)
    return Rendered(report_text(found, counts, ctx.tz), progress_keyboard(found, counts))


BROADCAST_RENDERERS: dict[NoticeKind, Renderer] = {
    NoticeKind.BROADCAST: broadcast,
    NoticeKind.BROADCAST_PROGRESS: progress,
    NoticeKind.BROADCAST_STARTED: started,
    NoticeKind.BROADCAST_DONE: done,
}
