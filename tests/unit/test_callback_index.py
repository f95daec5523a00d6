"""`handlers.filters.index_callbacks`: a button press enters only the routers that have a
handler for its prefix — and the index never turns away a callback a router would take."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram import Dispatcher, F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import CallbackQuery, Chat, Message, Update, User
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.app import build_dispatcher, load_i18n
from core.usercache import UserCache
from handlers.filters import CallbackPrefixes, _accepted_prefixes, index_callbacks
from tests.conftest import make_settings


class Ping(CallbackData, prefix="ping"):
    n: int


class Pong(CallbackData, prefix="pong", sep="|"):
    n: int


def _query(data: str | None) -> CallbackQuery:
    user = User(id=1, is_bot=False, first_name="A")
    message = Message(
        message_id=1, date=datetime(2026, 1, 1), chat=Chat(id=1, type="private"), text="x"
    )
    return CallbackQuery(id="1", from_user=user, chat_instance="c", data=data, message=message)


async def test_prefix_filter_takes_exactly_the_prefixes() -> None:
    flt = CallbackPrefixes(frozenset({(":", "ping"), ("|", "pong")}))
    assert await flt(_query(Ping(n=1).pack()))
    assert await flt(_query(Pong(n=2).pack()))
    assert not await flt(_query("pingx:1"))  # a longer prefix is another prefix
    assert not await flt(_query("pong:1"))  # pong's separator is `|`
    assert not await flt(_query("other:1"))
    assert not await flt(_query(None))


def _routers() -> tuple[Dispatcher, Router, Router, Router, list[str]]:
    seen: list[str] = []
    dp = Dispatcher(storage=MemoryStorage())
    pings, loose, nested = Router(name="pings"), Router(name="loose"), Router(name="nested")
    inner = Router(name="inner")

    async def on_ping(query: CallbackQuery, **_: Any) -> None:
        seen.append("ping")

    async def on_pong(query: CallbackQuery, **_: Any) -> None:
        seen.append("pong")

    async def on_exact(query: CallbackQuery, **_: Any) -> None:
        seen.append("exact")

    pings.callback_query.register(on_ping, Ping.filter())
    loose.callback_query.register(on_exact, F.data == "exact")  # any data could be this
    inner.callback_query.register(on_pong, Pong.filter(F.n > 0))
    nested.include_router(inner)
    dp.include_routers(pings, loose, nested)
    return dp, pings, loose, nested, seen


async def test_routers_are_indexed_only_when_every_handler_is_bounded() -> None:
    dp, pings, loose, nested, seen = _routers()
    assert _accepted_prefixes(loose) is None
    assert _accepted_prefixes(nested) == frozenset({("|", "pong")})  # from its sub-router
    assert index_callbacks(dp) == 2
    root_filters = pings.callback_query._handler.filters
    assert root_filters is not None and isinstance(root_filters[0].callback, CallbackPrefixes)
    assert not loose.callback_query._handler.filters

    from aiogram import Bot

    bot = Bot("42:TEST")
    for data in (Ping(n=1).pack(), "exact", Pong(n=3).pack(), Pong(n=0).pack(), "zzz"):
        update = Update(update_id=1, callback_query=_query(data))
        await dp.feed_update(bot, update)
    # everything each router took before the index, and nothing more
    assert seen == ["ping", "exact", "pong"]
    await bot.session.close()


def test_every_router_of_the_bot_but_the_stale_button_catcher_is_indexed() -> None:
    settings = make_settings("sqlite+aiosqlite:///unused.db")
    dp = build_dispatcher(
        settings,
        async_sessionmaker(),
        load_i18n(settings),
        storage=MemoryStorage(),
        cache=UserCache(),
    )
    unindexed = [
        r.name
        for r in dp.sub_routers
        if not any(
            isinstance(f.callback, CallbackPrefixes)
            for f in r.callback_query._handler.filters or ()
        )
    ]
    assert unindexed == ["fallback"]
