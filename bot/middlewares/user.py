"""Loads (or creates, with id and language only) the user of the update, through a cache."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from aiogram.types import User as TgUser

from core.i18n import client_locale
from core.usercache import UserCache, UserContext
from db.models import User
from db.repo import Repo
from domain.roles import effective_role


def context_of(user: User, admin_ids: frozenset[int]) -> UserContext:
    assert user.telegram_id is not None
    return UserContext(
        id=user.id,
        telegram_id=user.telegram_id,
        language=user.language,
        role=effective_role(
            user.role,
            user.telegram_id,
            admin_ids,
            staff_municipality_id=user.staff_municipality_id,
        ),
        consent=user.consent,
        profile_complete=user.profile_completed_at is not None,
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
        tg_user: TgUser | None = data.get("event_from_user")
        if tg_user is None or tg_user.is_bot:
            return await handler(event, data)
        ctx = self.cache.get(tg_user.id)
        if ctx is None:
            repo: Repo = data["repo"]
            user, created = await repo.users.get_or_create(
                tg_user.id, client_locale(tg_user, self.default_locale)
            )
            ctx = context_of(user, self.admin_ids)
            if not created:  # a new row is cached once its transaction has committed
                self.cache.put(ctx)
        data["user"] = ctx
        return await handler(event, data)
