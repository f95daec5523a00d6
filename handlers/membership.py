"""The user blocked or unblocked the bot (Telegram's `my_chat_member` update)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatMemberStatus, ChatType
from aiogram.types import ChatMemberUpdated

from core.clock import Clock
from core.usercache import UserContext
from db.repo import Repo
from services import membership


async def on_membership(
    update: ChatMemberUpdated, repo: Repo, user: UserContext, clock: Clock
) -> None:
    status = update.new_chat_member.status
    blocked = status in (ChatMemberStatus.KICKED, ChatMemberStatus.LEFT)
    await membership.chat_status_changed(repo, user.id, blocked=blocked, now=clock.now())


def make_router() -> Router:
    router = Router(name="membership")
    router.my_chat_member.register(on_membership, F.chat.type == ChatType.PRIVATE)
    return router
