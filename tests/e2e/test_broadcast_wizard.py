"""The coordinator's `/broadcast` wizard through the real bot and the emulator: the message,
the event button, the audience with its live count, the preview (a copy with exactly the
teachers' buttons), send now and scheduled; teachers and forged buttons get nothing; another
municipality's school or event is refused."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.commands import commands_for
from db.models import Broadcast, Event, School
from db.reference.sample_events import SAMPLE_EVENT_CODES
from db.repo import Repo
from devtools.emulator import BotMessage
from domain.broadcasts import BroadcastState, Filters
from domain.roles import Role
from tests.e2e.conftest import ADMIN_ID, Chat, Running
from tests.e2e.flows import coordinator, register
from tests.sample import load_sample_events
from ui.callbacks.broadcasts import BcMenu, BcMenuAction, BcWiz, BcWizAction

A = BcWizAction
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + (8).to_bytes(4, "big") * 2


def wiz(action: BcWizAction, value: str = "", page: int = 0) -> str:
    return BcWiz(action=action, value=value, page=page).pack()


async def _world(running: Running, base: int) -> tuple[Event, Event, School, School, Chat]:
    """The sample events; a school of the coordinator's municipality and one of another."""
    events = await load_sample_events(running.app.sessionmaker)
    event = events[SAMPLE_EVENT_CODES[0]]
    other_event = next(e for e in events.values() if e.municipality_id != event.municipality_id)
    async with running.app.sessionmaker() as session:
        school = await session.scalar(
            select(School).where(School.municipality_id == event.municipality_id)
        )
        other_school = await session.scalar(
            select(School).where(School.municipality_id != event.municipality_id)
        )
    assert school is not None and other_school is not None
    olga = await coordinator(running, base, event.municipality_id, school.id)
    return event, other_event, school, other_school, olga


async def _write(olga: Chat, running: Running, text: str) -> int:
    update: dict[str, Any] = {}
    await olga.run(lambda: update.update(running.emu.send_message(olga.user, text, html=True)))
    return int(update["message"]["message_id"])


async def _broadcasts(running: Running) -> list[Broadcast]:
    async with running.app.sessionmaker() as session:
        return list(await session.scalars(select(Broadcast).order_by(Broadcast.id)))


async def test_a_coordinator_walks_the_wizard_and_the_matching_teachers_get_the_copy(
    running: Running,
) -> None:
    emu = running.emu
    event, _, school, _, olga = await _world(running, 9101)
    young = running.chat(9110, lang="en", first_name="Young")
    senior = running.chat(9111, lang="en", first_name="Senior")
    head = running.chat(9112, lang="en", first_name="Head")
    await register(young, emu, municipality_id=event.municipality_id, school_id=school.id)
    await register(
        senior, emu, municipality_id=event.municipality_id, school_id=school.id,
        age="35_plus", years="20",
    )  # fmt: skip
    await register(
        head, emu, municipality_id=event.municipality_id, school_id=school.id, position="head"
    )

    prompt = await olga.send("/broadcast")
    assert "Send the message as teachers should see it" in prompt.plain_text
    assert {"⬅️ Back", "✖️ Cancel"} <= {b["text"] for b in prompt.all_inline_buttons}
    await _write(olga, running, "<b>Семинар</b> для молодых & начинающих 🎓")
    assert "Step 2" in olga.last.plain_text
    listing = await olga.tap_data(wiz(A.EVENTS))
    assert wiz(A.EVENT, str(event.id)) in [
        b.get("callback_data") for b in listing.all_inline_buttons
    ]
    step2 = await olga.tap_data(wiz(A.EVENT, str(event.id)))
    assert "📅 Event:" in step2.plain_text and "<b>" in step2.plain_text  # escaped, shown as is

    audience = await olga.tap_data(wiz(A.NEXT))
    # everyone of the municipality (Olga too: she is on file as a methodist)
    assert "👥 Recipients: 4 (of them 0 have muted news)" in audience.plain_text, (
        audience.plain_text
    )
    assert "👥 Recipients: 2 " in (await olga.tap_data(wiz(A.POSITION, "teacher"))).plain_text
    assert "👥 Recipients: 1 " in (await olga.tap_data(wiz(A.YOUNG))).plain_text
    assert "✅ 🌱 Young teachers (under 35 and up to 3 years)" in [
        b["text"] for b in olga.last.all_inline_buttons
    ]

    copies_before = len(emu.calls_of("copyMessage"))
    preview = await olga.tap_data(wiz(A.NEXT))
    assert "🚀 Send now to 1" in [b["text"] for b in preview.all_inline_buttons]
    [call] = emu.calls_of("copyMessage")[copies_before:]
    assert int(call.params["chat_id"]) == olga.user.id
    shown = [m for m in emu.chat(olga.user.id) if "Семинар" in (m.text or "")]
    assert [b["text"] for b in shown[-1].all_inline_buttons] == [
        "📅 Open the event",
        "🔕 No more news from methodists",
    ]
    assert emu.count_sent(young.user.id, "Семинар") == 0  # nothing goes out before "send"

    started = await olga.tap_data(wiz(A.SEND))
    assert any("Starting" in t or "Sent" in t for t in olga.texts()), started.plain_text
    for _ in range(3):
        running.clock.advance(seconds=3)
        await running.app.tick()
    [copy] = [m for m in emu.sent_to(young.user.id) if "Семинар" in (m.text or "")]
    assert "<b>Семинар</b>" in (copy.text or "") and "&amp; начинающих" in (copy.text or "")
    assert [b["text"] for b in copy.all_inline_buttons] == [
        "📅 Open the event",
        "🔕 No more news from methodists",
    ]
    assert emu.count_sent(senior.user.id, "Семинар") == 0
    assert emu.count_sent(head.user.id, "Семинар") == 0
    [saved] = await _broadcasts(running)
    assert Filters.from_json(saved.filters) == Filters(positions=("teacher",), young=True)
    assert saved.buttons == {"event_id": event.id}
    progress = next(m for m in emu.chat(olga.user.id) if m.message_id == saved.progress_message_id)
    assert "🏁 Finished" in progress.plain_text and "✅ Delivered: 1" in progress.plain_text
    # the draft is over: pressing "send" again creates nothing
    await olga.tap_data(wiz(A.SEND))
    assert len(await _broadcasts(running)) == 1


async def test_a_scheduled_broadcast_starts_at_the_coordinators_local_time(
    running: Running,
) -> None:
    _event, _, _, _, olga = await _world(running, 9201)
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        staff = await repo.users.by_telegram_id(olga.user.id)
        assert staff is not None
        staff.timezone = "Asia/Yekaterinburg"
        await session.commit()
    running.app.dp["user_cache"].invalidate(olga.user.id)

    await olga.send("/broadcast")
    await _write(olga, running, "Черновик")
    await olga.tap_data(wiz(A.BACK))  # to step 1: a photo with a caption instead
    await olga.run(lambda: running.emu.send_photo(olga.user, PNG, caption="Совещание в пятницу"))
    assert "Step 2" in olga.last.plain_text
    await olga.tap_data(wiz(A.LINK))
    await olga.send("ftp://example.org nope")
    assert "https://" in olga.last.plain_text  # re-asked
    step2 = await olga.send("https://example.org/agenda 📝 Повестка")
    assert "🔗 Link: https://example.org/agenda" in step2.plain_text
    await olga.tap_data(wiz(A.NEXT))
    assert "Step 2" in (await olga.tap_data(wiz(A.BACK))).plain_text  # ⬅️ Back keeps the draft
    assert "Step 3" in (await olga.tap_data(wiz(A.NEXT))).plain_text
    await olga.tap_data(wiz(A.NEXT))
    assert [b["text"] for b in olga.emu.chat(olga.user.id)[-2].all_inline_buttons] == [
        "📝 Повестка",
        "🔕 No more news from methodists",
    ]
    prompt = await olga.tap_data(wiz(A.SCHEDULE))
    assert "DD.MM.YYYY HH:MM" in prompt.plain_text

    ekb = ZoneInfo("Asia/Yekaterinburg")
    local_now = running.clock.now().astimezone(ekb)
    past = (local_now - timedelta(days=1)).strftime("%d.%m.%Y %H:%M")
    assert "passed" in (await olga.send(past)).plain_text
    assert await _broadcasts(running) == []
    day = (local_now + timedelta(days=2)).date()
    done = await olga.send(f"{day:%d.%m.%Y} 10:00")
    assert f"{day:%d.%m.%Y} 10:00" in done.plain_text, done.plain_text
    [saved] = await _broadcasts(running)
    assert saved.state == BroadcastState.SCHEDULED.value
    expected = datetime(day.year, day.month, day.day, 10, 0, tzinfo=ekb).astimezone(UTC)
    assert saved.scheduled_at == expected  # 05:00 UTC
    assert expected.hour == 5
    assert saved.buttons == {"url": "https://example.org/agenda", "url_label": "📝 Повестка"}
    assert (saved.content_kind, saved.preview) == ("photo", "Совещание в пятницу")


async def test_teachers_and_forged_buttons_get_nothing_and_other_municipalities_are_refused(
    running: Running,
) -> None:
    emu = running.emu
    event, other_event, school, other_school, olga = await _world(running, 9301)
    anna = running.chat(9310, lang="en", first_name="Anna")
    await register(anna, emu, municipality_id=event.municipality_id, school_id=school.id)

    await anna.send("/broadcast")
    assert not any("Send the message as teachers" in t for t in anna.texts())
    for data in (wiz(A.SEND), wiz(A.NEXT), wiz(A.YOUNG), wiz(A.SCHOOL, str(school.id))):
        await anna.run(functools.partial(emu.forge_callback, anna.user, anna.last.message_id, data))
    assert not any("Recipients" in t for t in anna.texts() + anna.popups())
    assert await _broadcasts(running) == []

    # a coordinator's forged buttons outside a draft do nothing either
    last = olga.last.message_id
    await olga.run(lambda: emu.forge_callback(olga.user, last, wiz(A.SEND)))
    assert "no longer active" in olga.popups()[-1]

    await olga.send("/broadcast")
    await _write(olga, running, "Новости района")
    audience = await olga.tap_data(wiz(A.NEXT))
    count = next(line for line in audience.plain_text.splitlines() if "Recipients" in line)
    forged = (
        wiz(A.SCHOOL, str(other_school.id)),
        wiz(A.FILTER_EVENT, str(other_event.id)),
        wiz(A.MUNICIPALITY, str(other_school.municipality_id)),  # administrators only
        wiz(A.POSITION, "astronaut"),
        wiz(A.SCHOOL, "abc"),
    )
    mid = audience.message_id
    for data in forged:
        n = len(olga.popups())
        await olga.run(functools.partial(emu.forge_callback, olga.user, mid, data))
        assert len(olga.popups()) == n + 1, data
        assert "Recipients" not in olga.popups()[-1]
    assert "outside your municipality" in " ".join(olga.popups())
    # an event button of another municipality is refused the same way
    n = len(olga.popups())
    await olga.run(lambda: emu.forge_callback(olga.user, mid, wiz(A.EVENT, str(other_event.id))))
    assert "outside your municipality" in olga.popups()[n]
    # nothing changed: the next step still counts everybody
    preview = await olga.tap_data(wiz(A.NEXT))
    assert count in preview.plain_text
    assert await _broadcasts(running) == []


async def test_an_administrator_picks_municipalities_then_their_schools(running: Running) -> None:
    emu = running.emu
    event, _, school, other_school, olga = await _world(running, 9401)
    teacher = running.chat(9410, lang="en", first_name="Tanya")
    await register(teacher, emu, municipality_id=event.municipality_id, school_id=school.id)
    admin = running.chat(ADMIN_ID, lang="en", first_name="Admin")
    await register(
        admin, emu, municipality_id=other_school.municipality_id, school_id=other_school.id
    )
    await admin.send("/broadcast")
    await _write(admin, running, "Для всего региона")
    region = await admin.tap_data(wiz(A.NEXT))
    assert "👥 Recipients: 3 " in region.plain_text  # Olga, Tanya and the admin
    labels = [b["text"] for b in region.all_inline_buttons]
    assert "🗺 Municipalities" in labels and "🏫 Schools" not in labels
    await admin.tap_data(wiz(A.MUNICIPALITIES))
    picked = await admin.tap_data(wiz(A.MUNICIPALITY, str(event.municipality_id)))
    assert "👥 Recipients: 2 " in admin.popups()[-1]
    assert any(b["text"].startswith("✅ ") for b in picked.all_inline_buttons)
    back = await admin.tap_data(wiz(A.AUDIENCE))
    assert "👥 Recipients: 2 " in back.plain_text
    assert "🏫 Schools" in [b["text"] for b in back.all_inline_buttons]
    # a coordinator has no municipality picker: the forged button is refused
    await olga.send("/broadcast")
    await _write(olga, running, "Только мой район")
    mid = (await olga.tap_data(wiz(A.NEXT))).message_id
    assert "🗺 Municipalities" not in [b["text"] for b in olga.last.all_inline_buttons]
    await olga.run(lambda: emu.forge_callback(olga.user, mid, wiz(A.MUNICIPALITIES)))
    assert "not available" in olga.popups()[-1]


def _nav(message: BotMessage) -> bool:
    return {"⬅️ Back", "✖️ Cancel"} <= {b["text"] for b in message.all_inline_buttons}


async def test_the_menu_opens_the_wizard_and_every_step_has_back_and_cancel(
    running: Running,
) -> None:
    emu = running.emu
    event, _, school, _, olga = await _world(running, 9501)
    anna = running.chat(9510, lang="en", first_name="Anna")
    await register(anna, emu, municipality_id=event.municipality_id, school_id=school.id)

    # the coordinator's menu: 📣 starts the wizard; 📜 is there for the history
    helped = await olga.send("/help")
    assert "/broadcast — " in helped.plain_text and "/broadcasts — " in helped.plain_text
    assert "🗂 Coordinator tools" in helped.reply_keyboard_texts
    tools = await olga.send("🗂 Coordinator tools")
    labels = [b["text"] for b in tools.all_inline_buttons]
    assert labels == ["📣 Broadcast", "📜 Broadcasts"]
    assert BcMenu(action=BcMenuAction.HISTORY).pack() in [
        b.get("callback_data") for b in tools.all_inline_buttons
    ]
    coordinator_commands = commands_for(Role.COORDINATOR, "en", running.app.i18n)
    assert {"broadcast", "broadcasts"} <= {c.command for c in coordinator_commands}
    teacher_commands = commands_for(Role.TEACHER, "en", running.app.i18n)
    assert not {"broadcast", "broadcasts"} & {c.command for c in teacher_commands}

    step1 = await olga.tap("📣 Broadcast")
    assert "Step 1" in step1.plain_text and _nav(step1)
    await _write(olga, running, "Проверка кнопок")
    step2 = olga.last
    assert "Step 2" in step2.plain_text and _nav(step2)
    # each screen: Back and Cancel; ⬅️ Back goes to the screen before
    listing = await olga.tap_data(wiz(A.EVENTS))
    assert _nav(listing)
    assert "Step 2" in (await olga.tap("⬅️ Back")).plain_text
    link = await olga.tap_data(wiz(A.LINK))
    assert _nav(link)
    assert _nav(await olga.send("not a link"))  # asked again, still with both
    assert "Step 2" in (await olga.tap("⬅️ Back")).plain_text
    step3 = await olga.tap_data(wiz(A.NEXT))
    assert "Step 3" in step3.plain_text and _nav(step3)
    for picker in (A.DEFICITS, A.SCHOOLS, A.FILTER_EVENTS):
        shown = await olga.tap_data(wiz(picker))
        assert _nav(shown), picker
        assert "Step 3" in (await olga.tap("⬅️ Back")).plain_text, picker
    assert "Step 2" in (await olga.tap("⬅️ Back")).plain_text
    await olga.tap_data(wiz(A.NEXT))
    step4 = await olga.tap_data(wiz(A.NEXT))
    assert "Step 4" in step4.plain_text and _nav(step4)
    assert "Step 3" in (await olga.tap("⬅️ Back")).plain_text
    await olga.tap_data(wiz(A.NEXT))
    when = await olga.tap_data(wiz(A.SCHEDULE))
    assert "DD.MM.YYYY" in when.plain_text and _nav(when)
    assert _nav(await olga.send("tomorrow"))  # asked again
    assert "Step 4" in (await olga.tap("⬅️ Back")).plain_text
    # ⬅️ Back from step 1 and ✖️ Cancel anywhere end the draft; its buttons then do nothing
    cancelled = await olga.tap("✖️ Cancel")
    assert "cancelled" in cancelled.plain_text
    await olga.run(lambda: emu.forge_callback(olga.user, step4.message_id, wiz(A.SEND)))
    assert "no longer active" in olga.popups()[-1]
    await olga.send("/broadcast")
    await _write(olga, running, "Ещё одна")
    await olga.tap_data(wiz(A.NEXT))
    await olga.tap_data(wiz(A.DEFICITS))
    assert "cancelled" in (await olga.tap("✖️ Cancel")).plain_text
    await olga.tap("📣 Broadcast")
    assert "cancelled" in (await olga.tap("⬅️ Back")).plain_text
    assert await _broadcasts(running) == []

    # a teacher has no such menu; typing its label or forging 📣 starts nothing
    assert "🗂 Coordinator tools" not in anna.last.reply_keyboard_texts
    await anna.send("🗂 Coordinator tools")
    forged = BcMenu(action=BcMenuAction.NEW).pack()
    await anna.run(lambda: emu.forge_callback(anna.user, anna.last.message_id, forged))
    assert not any("New broadcast" in t or "📣 Broadcast" in t for t in anna.texts())
    assert "/broadcast" not in (await anna.send("/help")).plain_text
