"""Benchmarks of the outbox redesign (issue #8), run by `python -m bench.run`.

* taps under slow Telegram: 50 teachers press "Yes, sign me up" for a 10-seat event at the
  same moment, through the real bot polling the Bot API emulator, with every Bot API call
  taking 0 s and then 0.15 s. Replies commit before they are sent, so the event lock is never
  held across a Telegram round trip: the ratio of the two times stays near 1 + the latency
  a tap's own reply costs, and no tap is lost.
* fan-out: 200 queued messages drained by the sender through the emulator, unlimited and at
  OUTBOX_RATE=50 (the achieved rate over the configured one shows the limiter holds).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from bot.app import BotApp
from core.settings import Settings
from db.repo import Repo
from devtools.emulator import BotAPIEmulator, BotMessage
from domain.notices import Notice, NoticeKind
from tests.conftest import TEST_TOKEN
from tests.faults.rig import add_event, add_teachers, municipality_id, statuses, wait_until

SIGNUP = "✅ Записаться"
YES = "✅ Да, записаться"


def _settings(db: Path, base_url: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": TEST_TOKEN,
        "database_url": f"sqlite+aiosqlite:///{db}",
        "telegram_api_base": base_url,
        "throttle_rate": 10_000.0,
        "throttle_burst": 10_000,
        "log_level": "WARNING",
        "outbox_rate": 1000.0,
        "outbox_chat_rate": 1000.0,
        "outbox_poll_seconds": 0.2,
    }
    values.update(extra)
    return Settings(_env_file=None, **values)


def _has_button(message: BotMessage, text: str) -> bool:
    return _button(message, text) is not None


def _button(message: BotMessage, text: str) -> str | None:
    for button in message.all_inline_buttons:
        if button.get("text") == text:
            return str(button.get("callback_data"))
    return None


async def taps_under_latency(latency: float, users: int = 50, seats: int = 10) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        async with BotAPIEmulator(token=TEST_TOKEN) as emu:
            app = BotApp(_settings(Path(tmp) / "taps.db", emu.base_url))
            await app.setup()
            await app.start_polling()
            try:
                maker = app.sessionmaker
                muni = await municipality_id(maker)
                chats = list(range(95_001, 95_001 + users))
                await add_teachers(maker, emu, chats, muni)
                event = await add_event(maker, muni, title="Мастер-класс", capacity=seats)
                for chat_id in chats:
                    user = emu.user(chat_id)
                    assert user is not None
                    emu.send_message(user, f"/start event_{event}")
                    card = await emu.wait_for_message(
                        chat_id, lambda m: _button(m, SIGNUP) is not None, timeout=30
                    )
                    data = _button(card, SIGNUP)
                    assert data is not None
                    emu.press_button(user, card.message_id, data)
                    await wait_until(partial(_has_button, card, YES), 30, lambda: "")
                emu.latency = latency
                started = time.perf_counter()
                queries = []
                for chat_id in chats:
                    user = emu.user(chat_id)
                    assert user is not None
                    queries.append(emu.press_button_by_text(user, YES)["callback_query"]["id"])
                await asyncio.gather(
                    *(emu.wait_for_callback_answer(q, timeout=120) for q in queries)
                )
                elapsed = time.perf_counter() - started
                tally = list((await statuses(maker, event)).values())
            finally:
                await app.stop()
    return {
        "total_s": elapsed,
        "confirmed": float(tally.count("confirmed")),
        "waitlisted": float(tally.count("waitlisted")),
        "lost": float(users - len(tally)),
    }


async def fan_out(messages: int = 200, **extra: Any) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        async with BotAPIEmulator(token=TEST_TOKEN) as emu:
            app = BotApp(_settings(Path(tmp) / "fanout.db", emu.base_url, **extra))
            await app.setup()  # not polling: the sender is driven directly
            try:
                maker = app.sessionmaker
                muni = await municipality_id(maker)
                user_ids = await add_teachers(maker, emu, range(96_001, 96_001 + messages), muni)
                async with maker() as session:
                    await Repo(session).outbox.add(
                        [
                            Notice(uid, NoticeKind.ROUTE_COMMENT, {"text": "Отличная работа!"})
                            for uid in user_ids
                        ],
                        app.clock.now(),
                    )
                    await session.commit()
                started = time.perf_counter()
                report = await app.sender.drain()
                elapsed = time.perf_counter() - started
            finally:
                await app.stop()
    return {"per_s": report.sent / elapsed, "sent": float(report.sent), "total_s": elapsed}


async def report() -> None:
    fast = await taps_under_latency(0.0)
    slow = await taps_under_latency(0.15)
    print(
        "50 simultaneous sign-up taps for 10 seats through the bot (SQLite): "
        f"Telegram 0 ms {fast['total_s'] * 1000:.0f} ms, 150 ms {slow['total_s'] * 1000:.0f} ms "
        f"(x{slow['total_s'] / fast['total_s']:.1f}); lost taps {slow['lost']:.0f}, "
        f"{slow['confirmed']:.0f} confirmed + {slow['waitlisted']:.0f} waitlisted"
    )
    free = await fan_out()
    limited = await fan_out(outbox_rate=50.0)
    print(
        f"outbox fan-out of 200 messages through the emulator: unlimited {free['per_s']:.0f} msg/s; "
        f"OUTBOX_RATE=50: {limited['per_s']:.1f} msg/s "
        f"({limited['per_s'] / 50:.2f} of the configured rate)"
    )
