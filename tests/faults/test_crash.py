"""The bot killed (SIGKILL, no clean-up) in the middle of sending: after a restart every
notice arrives, at most one of them twice (the documented window of the outbox: a row that
Telegram accepted but the bot had not yet marked as sent), and no change is lost."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from db.types import utcnow
from devtools.emulator import BotAPIEmulator, BotMessage, RecordedCall
from domain.schedule import JobKind
from tests.faults.rig import (
    OFFER,
    REMINDER,
    Bots,
    Maker,
    add_event,
    add_teachers,
    counts,
    describe_counts,
    hard_timeout,
    municipality_id,
    register,
    schedule,
    settle,
    statuses,
    wait_until,
)

OpenDb = Callable[[str], Awaitable[Maker]]


@hard_timeout(75)
async def test_sigkill_during_a_reminder_fan_out_repeats_at_most_one(
    db_url: str, emu: BotAPIEmulator, bots: Bots, open_db: OpenDb
) -> None:
    """20 participants are due a reminder; the bot is killed the moment Telegram receives the
    8th. After the restart all 20 have it, one of them at most twice, nobody three times."""
    maker = await open_db(db_url)
    muni = await municipality_id(maker)
    chats = list(range(81_001, 81_021))
    users = await add_teachers(maker, emu, chats, muni)
    event = await add_event(maker, muni, title="Мастер-класс «Смысловое чтение»", capacity=25)
    await register(maker, event, users)
    await schedule(maker, JobKind.EVENT_REMINDER, utcnow() - timedelta(minutes=1), event_id=event)

    bot = bots.new(db_url, OUTBOX_CONCURRENCY="1")
    reminders: list[RecordedCall] = []

    def kill_at_the_eighth(call: RecordedCall) -> None:
        if call.method == "sendMessage" and REMINDER in str(call.params.get("text")):
            reminders.append(call)
            if len(reminders) == 8:
                bot.kill_now()

    remove = emu.on_call(kill_at_the_eighth)
    await bot.start(wait_polling=False)  # the fan-out may come before the first poll
    await wait_until(
        lambda: not bot.running,
        30,
        lambda: f"the bot was not killed: {len(reminders)} reminder(s) sent\n{bot.log_tail()}",
    )
    await bot.killed()
    remove()
    assert len(reminders) >= 8, describe_counts(counts(emu, chats, REMINDER))

    await bot.start()
    await wait_until(
        lambda: all(n >= 1 for n in counts(emu, chats, REMINDER).values()),
        20,
        lambda: (
            "every participant reminded after the restart: "
            + describe_counts(counts(emu, chats, REMINDER))
            + "\n"
            + bot.log_tail()
        ),
    )
    await settle(lambda: sum(counts(emu, chats, REMINDER).values()))
    found = counts(emu, chats, REMINDER)
    twice = [chat for chat, n in found.items() if n == 2]
    assert len(twice) <= 1 and max(found.values()) <= 2, (
        "a crash may repeat only the one message in flight: " + describe_counts(found)
    )


def _has_button(text: str) -> Callable[[BotMessage], bool]:
    return lambda m: any(text in str(b.get("text")) for b in m.all_inline_buttons)


@hard_timeout(60)
async def test_sigkill_right_after_a_seat_offer_keeps_the_cancellation(
    db_url: str, emu: BotAPIEmulator, bots: Bots, open_db: OpenDb
) -> None:
    """A full event with a waitlist: Anna cancels with the buttons, the bot is killed the
    moment Telegram receives the offer to Boris, the first in line. After the restart Anna's
    cancellation stands, Boris has the offer (at most twice) and taking it gives him the seat."""
    maker = await open_db(db_url)
    muni = await municipality_id(maker)
    anna_id, olga_id, boris_id = 82_001, 82_002, 82_003
    anna, olga, boris = await add_teachers(maker, emu, [anna_id, olga_id, boris_id], muni)
    event = await add_event(maker, muni, title="Семинар «Функциональная грамотность»", capacity=2)
    await register(maker, event, [anna, olga])
    await register(maker, event, [boris], status="waitlisted")

    bot = bots.new(db_url)
    await bot.start()
    anna_user = emu.user(anna_id)
    assert anna_user is not None
    emu.send_message(anna_user, f"/start event_{event}")
    card = await emu.wait_for_message(anna_id, _has_button("Отменить запись"), timeout=15)
    emu.press_button_by_text(anna_user, "❌ Отменить запись")
    await wait_until(lambda: _has_button("Да, отменить")(card), 15, lambda: emu.dump_chat(anna_id))

    offers: list[RecordedCall] = []

    def kill_at_the_offer(call: RecordedCall) -> None:
        if call.method == "sendMessage" and OFFER in str(call.params.get("text")):
            offers.append(call)
            bot.kill_now()

    remove = emu.on_call(kill_at_the_offer)
    emu.press_button_by_text(anna_user, "✅ Да, отменить")
    await wait_until(
        lambda: not bot.running,
        20,
        lambda: (
            f"no offer was sent to the first in line\n{emu.dump_chat(boris_id)}\n" + bot.log_tail()
        ),
    )
    await bot.killed()
    remove()
    assert [int(c.params["chat_id"]) for c in offers] == [boris_id]

    await bot.start()
    problems: list[str] = []
    after = await statuses(maker, event)
    if after[anna_id] != "cancelled":
        problems.append(f"Anna's cancellation was lost: her registration is {after[anna_id]!r}")
    received = await settle(lambda: emu.count_sent(boris_id, OFFER))
    if not 1 <= received <= 2:
        problems.append(f"Boris received the offer {received} times (1, at most 2 expected)")
    boris_user = emu.user(boris_id)
    assert boris_user is not None
    press = emu.press_button_by_text(boris_user, "✅ Занять место")
    answer = await emu.wait_for_callback_answer(press["callback_query"]["id"], timeout=15)
    popup = str(answer.params.get("text"))
    if "Место за вами" not in popup:
        problems.append(f"taking the offered seat answered {popup!r}")
    status = (await statuses(maker, event))[boris_id]
    if status != "confirmed":
        problems.append(f"Boris's registration is {status!r} after taking the seat")
    assert not problems, "\n".join(problems) + "\n" + emu.dump_chat(boris_id)
