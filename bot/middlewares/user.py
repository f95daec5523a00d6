"""Loads (or creates, with id and language only) the user of the update, through a cache,
and hands handlers `user` (a `UserContext`) and `tz`: the user's time zone, in which every
time a handler shows or reads is meant (the service's `TIMEZONE` until they choose one)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiogram import BaseMiddleware
from aiogram.enums import ChatMemberStatus
from aiogram.types import TelegramObject, Update
from aiogram.types import User as TgUser

from core.i18n import client_locale
from core.usercache import UserCache, UserContext
from db.models import User
from db.repo import Repo
from domain.roles import effective_role


def context_of(user: User, admin_ids: frozenset[int], *, has_scope: bool) -> UserContext:
    """`has_scope`: the user has staff assignments (`Repo.staff`)."""
    assert user.telegram_id is not None
    return UserContext(
        id=user.id,
        telegram_id=user.telegram_id,
        language=user.language,
        role=effective_role(
            user.role,
            user.telegram_id,
            admin_ids,
            has_scope=has_scope,
        ),
        consent=user.consent,
        profile_complete=user.profile_completed_at is not None,
        blocked=user.blocked_at is not None,
        timezone=user.timezone,
    )


def _blocks_the_bot(event: TelegramObject) -> bool:
    """The update that says the user blocked the bot (it comes from them, too)."""
    return (
        isinstance(event, Update)
        and event.my_chat_member is not None
        and event.my_chat_member.new_chat_member.status
        in (ChatMemberStatus.KICKED, ChatMemberStatus.LEFT)
    )


class UserMiddleware(BaseMiddleware):
    def __init__(self, cache: UserCache, admin_ids: frozenset[int], default_locale: str) -> None:
        self.cache = cache
        self.admin_ids = admin_ids
        self.default_locale = default_locale

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        repo: Repo = data["repo"]
        data["tz"] = repo.policy.default_tz
        tg_user: TgUser | None = data.get("event_from_user")
        if tg_user is None or tg_user.is_bot:
            return await handler(event, data)
        ctx = self.cache.get(tg_user.id)
        if ctx is None:
            user, created = await repo.users.get_or_create(
                tg_user.id, client_locale(tg_user, self.default_locale)
            )
            has_scope = bool(await repo.staff.assignments(user.id)) if not created else False
            ctx = context_of(user, self.admin_ids, has_scope=has_scope)
            await repo.users.remember_username(user, tg_user.username)
            if not created:  # a new row is cached once its transaction has committed
                self.cache.put(ctx)
        if ctx.blocked and not _blocks_the_bot(event):
            # they write to us, so messages reach them again (the cache entry is dropped
            # after the commit: `set_reachable` marks the user touched)
            row = await repo.users.get(ctx.id)
            if row is not None:
                await repo.users.set_reachable(row)
            ctx = replace(ctx, blocked=False)
        data["user"] = ctx
        data["tz"] = repo.policy.tz(ctx.timezone)
        return await handler(event, data)
