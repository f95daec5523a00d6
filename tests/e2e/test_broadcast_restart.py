"""Broadcasts survive a restart (the bot stopped, a new one started on the same database and
emulator), through the real bot: a broadcast scheduled in the wizard goes out on time after
the restart, exactly once to each recipient, and its author is told it started; one stopped in
the middle of sending (some copies out, the rest waiting) is finished by the new bot with
nobody getting it twice and nobody lost; a scheduled one that finds nobody at its start ends
as done and its author is told."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app import BotApp
from core.clock import ManualClock
from db.models import Broadcast, School
from db.reference.sample_events import SAMPLE_EVENT_CODES
from db.repo import Repo
from devtools.emulator import BotAPIEmulator, SpecValidator
from domain.broadcasts import BroadcastState
from tests.conftest import TEST_TOKEN, make_settings
from tests.e2e.conftest import Chat, Running
from tests.e2e.flows import coordinator
from tests.e2e.test_broadcast_pickers import teacher_on_file
from tests.sample import load_sample_events
from ui.callbacks.broadcasts import BcWiz, BcWizAction

A = BcWizAction


def wiz(action: BcWizAction, value: str = "") -> str:
    return BcWiz(action=action, value=value).pack()


@asynccontextmanager
async def _bot(emu: BotAPIEmulator, db_url: str, clock: ManualClock) -> AsyncIterator[Running]:
    app = BotApp(make_settings(db_url, telegram_api_base=emu.base_url), clock=clock)
    try:
        await app.setup()
        await app.start_polling()
        yield Running(app, emu, app.dp["update_counter"], clock)
    finally:
        await app.stop()


def _chat(running: Running, chat: Chat) -> Chat:
    """The same user's chat, driven through the new bot."""
    return Chat(running.emu, chat.user, running.counter, running.app.sender)


async def _write(olga: Chat, running: Running, text: str) -> None:
    update: dict[str, Any] = {}
    await olga.run(lambda: update.update(running.emu.send_message(olga.user, text)))


async def _states(running: Running) -> list[tuple[str, str, int]]:
    async with running.app.sessionmaker() as session:
        rows = await session.execute(
            select(Broadcast.preview, Broadcast.state, Broadcast.total).order_by(Broadcast.id)
        )
        return [(p, s, t) for p, s, t in rows]


async def test_broadcasts_go_out_exactly_once_across_restarts(
    db_url: str, spec: SpecValidator | None
) -> None:
    db = db_url
    clock = ManualClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    local = ZoneInfo("Europe/Moscow")
    async with BotAPIEmulator(token=TEST_TOKEN, spec=spec) as emu:
        # ---- the first bot: a scheduled broadcast, then one that stops half-way
        async with _bot(emu, db, clock) as first:
            event = (await load_sample_events(first.app.sessionmaker))[SAMPLE_EVENT_CODES[0]]
            async with first.app.sessionmaker() as session:
                school = await session.scalar(
                    select(School).where(School.municipality_id == event.municipality_id)
                )
                assert school is not None
                session.expunge(school)
            olga = await coordinator(first, 9601, event.municipality_id, school.id)
            names = ("Alla", "Boris", "Vera")
            tg = {n: 9610 + i for i, n in enumerate(names)}
            for name in names:
                await teacher_on_file(first, tg[name], name, school, "under_35", 2)

            await olga.send("/broadcast")
            await _write(olga, first, "Плановая рассылка")
            await olga.tap_data(wiz(A.NEXT))
            await olga.tap_data(wiz(A.POSITION, "teacher"))
            await olga.tap_data(wiz(A.NEXT))
            await olga.tap_data(wiz(A.SCHEDULE))
            at = datetime(2026, 12, 2, 10, 0, tzinfo=local)
            assert "is scheduled" in (await olga.send(f"{at:%d.%m.%Y %H:%M}")).plain_text

            # Boris and Vera keep quiet hours around now: the next copies wait for them
            async with first.app.sessionmaker() as session:
                repo = Repo(session)
                for name in ("Boris", "Vera"):
                    user = await repo.users.by_telegram_id(tg[name])
                    assert user is not None
                    user.quiet_hours = "11:00-14:00"  # Moscow; now is 12:00 there
                await session.commit()
            await olga.send("/broadcast")
            await _write(olga, first, "Срочная рассылка")
            await olga.tap_data(wiz(A.NEXT))
            await olga.tap_data(wiz(A.POSITION, "teacher"))
            await olga.tap_data(wiz(A.NEXT))
            await olga.tap_data(wiz(A.SEND))
            await first.app.sender.settle()
            assert [emu.count_sent(tg[n], "Срочная") for n in names] == [1, 0, 0]
            assert await _states(first) == [
                ("Плановая рассылка", BroadcastState.SCHEDULED.value, 0),
                ("Срочная рассылка", BroadcastState.SENDING.value, 3),
            ]
        # ---- the bot is down; it comes back after the quiet hours and after the planned time
        clock.set(at + timedelta(minutes=1))
        async with _bot(emu, db, clock) as second:
            await second.app.tick()
            for _ in range(3):
                clock.advance(seconds=3)
                await second.app.tick()
            for name in names:
                assert emu.count_sent(tg[name], "Срочная") == 1, name
                assert emu.count_sent(tg[name], "Плановая") == 1, name
            olga = _chat(second, olga)
            # told once that it started (that message then shows its progress and report)
            started = [
                c
                for c in emu.calls_to(olga.user.id, "sendMessage")
                if "has started" in str(c.params.get("text"))
            ]
            assert len(started) == 1 and "Плановая" in str(started[0].params["text"])
            assert await _states(second) == [
                ("Плановая рассылка", BroadcastState.DONE.value, 3),
                ("Срочная рассылка", BroadcastState.DONE.value, 3),
            ]
            # the live message of the one sent "now" ends with its full report
            async with second.app.sessionmaker() as session:
                live_id = await session.scalar(
                    select(Broadcast.progress_message_id).where(
                        Broadcast.preview == "Срочная рассылка"
                    )
                )
            live = next(m for m in emu.chat(olga.user.id) if m.message_id == live_id)
            assert "🏁 Finished" in live.plain_text and "✅ Delivered: 3" in live.plain_text

            # ---- scheduled, and at its start nobody can be written to: done, its author told
            await olga.send("/broadcast")
            await _write(olga, second, "Никому")
            await olga.tap_data(wiz(A.NEXT))
            await olga.tap_data(wiz(A.POSITION, "teacher"))
            await olga.tap_data(wiz(A.NO_ROUTE))
            await olga.tap_data(wiz(A.NEXT))
            await olga.tap_data(wiz(A.SCHEDULE))
            when = (clock.now() + timedelta(days=1)).astimezone(local)
            await olga.send(f"{when:%d.%m.%Y %H:%M}")
            async with second.app.sessionmaker() as session:
                repo = Repo(session)
                for chat_id in tg.values():
                    user = await repo.users.by_telegram_id(chat_id)
                    assert user is not None
                    user.consent = "withdrawn"  # no teacher can be written to any more
                await session.commit()
            before = len(emu.sent_to(olga.user.id))
            clock.set(when + timedelta(minutes=1))
            await second.app.tick()
            assert (await _states(second))[-1] == ("Никому", BroadcastState.DONE.value, 0)
            [told] = emu.sent_to(olga.user.id)[before:]
            assert "🏁 Finished" in told.plain_text and "👥 Recipients: 0" in told.plain_text
            assert all(emu.count_sent(t, "Никому") == 0 for t in tg.values())
        emu.assert_no_violations()
