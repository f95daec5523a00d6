"""A restart in the middle of the profile wizard loses nothing: answers are in the database,
and with REDIS_URL the question on screen survives too."""

from __future__ import annotations

from collections.abc import Callable

from bot.app import BotApp
from bot.middlewares import UpdateCounter
from db.repo import Repo
from devtools.emulator import BotAPIEmulator, EmuUser, SpecValidator
from tests.conftest import TEST_TOKEN, make_settings


async def _start(emu: BotAPIEmulator, db: str, redis_url: str | None) -> BotApp:
    settings = make_settings(db, telegram_api_base=emu.base_url, redis_url=redis_url)
    app = BotApp(settings)
    await app.setup()
    await app.start_polling()
    return app


async def _walk_until_experience(app: BotApp, emu: BotAPIEmulator, user: EmuUser) -> None:
    counter: UpdateCounter = app.dp["update_counter"]
    steps: list[Callable[[], object]] = [
        lambda: emu.send_message(user, "/start"),
        lambda: emu.press_button_by_text(user, "I agree"),
        lambda: emu.send_message(user, "Ivanova Anna"),
        lambda: emu.press_button_by_text(user, "Volgodonsk"),
        lambda: emu.press_button_by_text(user, "СОШ № 5"),
        lambda: emu.press_button_by_text(user, "Teacher"),
        lambda: emu.press_button_by_text(user, "Mathematics"),
        lambda: emu.press_button_by_text(user, "Done"),
    ]
    for step in steps:
        target = counter.count + 1
        step()
        await counter.wait_for(target)
    assert "Step 6 of 7" in emu.last_message(user.id).plain_text  # type: ignore[union-attr]


async def _answer_after_restart(db: str, spec: SpecValidator | None, redis_url: str | None) -> str:
    user = EmuUser(id=7001, first_name="Anna", language_code="en")
    async with BotAPIEmulator(token=TEST_TOKEN, spec=spec) as emu:
        app = await _start(emu, db, redis_url)
        try:
            await _walk_until_experience(app, emu, user)
        finally:
            await app.stop()
        app = await _start(emu, db, redis_url)  # the bot comes back
        try:
            counter: UpdateCounter = app.dp["update_counter"]
            emu.send_message(user, "7")
            await counter.wait_for(1)
            async with app.sessionmaker() as session:
                row = await Repo(session).users.by_telegram_id(7001)
                assert row is not None
                assert (row.full_name, row.position_code) == ("Ivanova Anna", "teacher")
                assert await Repo(session).users.subject_codes(row.id) == ["math"]
                years = row.experience_years
            text = emu.last_message(user.id).plain_text  # type: ignore[union-attr]
        finally:
            await app.stop()
        emu.assert_no_violations()
    return f"{years}|{text}"


async def test_restart_with_redis_keeps_the_open_question(
    db_url: str, spec: SpecValidator | None, redis_url: str
) -> None:
    result = await _answer_after_restart(db_url, spec, redis_url)
    years, text = result.split("|", 1)
    assert years == "7" and "Step 7 of 7" in text


async def test_restart_in_memory_keeps_answers_and_resumes(
    db_url: str, spec: SpecValidator | None
) -> None:
    result = await _answer_after_restart(db_url, spec, None)
    years, text = result.split("|", 1)
    assert years == "None" and "/profile" in text  # the open question is gone, the answers are not
