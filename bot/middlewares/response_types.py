"""Keeps the parsed-answer model of every Bot API method the bot calls alive.

aiogram parses each answer with `Response[method.__returning__]`, a pydantic generic model
built on first use. pydantic (2.13, the version here) caches such models in a `WeakValueDictionary` only; a
model class sits in reference cycles, so the next cyclic garbage collection frees it as soon
as no answer refers to it, and the next call builds it again: 4–7 ms of schema generation,
measured on about half of all calls in the teacher mix (`python -m bench.run mix`), where a
busy bot collects garbage often. Holding one strong reference per method type stops that.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType


class KeepResponseTypes(BaseRequestMiddleware):
    def __init__(self) -> None:
        self.kept: dict[type[TelegramMethod[Any]], type[Any]] = {}

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        kind = type(method)
        if kind not in self.kept:
            self.kept[kind] = Response[method.__returning__]  # type: ignore[name-defined]
        return await make_request(bot, method)
