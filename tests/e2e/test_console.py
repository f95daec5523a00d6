"""`python -m bot console`: a newcomer completes consent and the profile in the terminal."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from bot.__main__ import main
from bot.middlewares import UpdateCounter
from db.models import Event
from db.reference.sample_events import SAMPLE_EVENT_CODES, TRICKY_TITLE
from devtools.console import (
    CONSOLE_TOKEN,
    HELP,
    ConsoleSession,
    run_console,
    time_jump,
    typed_text,
)
from devtools.emulator import BotAPIEmulator, EmuUser
from tests.conftest import make_settings

Step = str | Callable[[str], str]
MSK = ZoneInfo("Europe/Moscow")


def _bytes(path: str | Path) -> bytes:
    return Path(path).read_bytes()


def pick(label: str) -> Callable[[str], str]:
    """Press the newest button on screen whose label contains `label`."""

    def choose(screen: str) -> str:
        found = [(n, t.strip()) for n, t in re.findall(r"\[(\d+)\] ([^\[\n]*)", screen)]
        for exact in (True, False):
            for number, text in reversed(found):
                if text == label or (not exact and label in text):
                    return f"#{number}"
        raise AssertionError(f"no button {label!r} on screen:\n{screen[-2000:]}")

    return choose


class ConsoleDb(NamedTuple):
    """Where a console run keeps its files, and its database (of this run's backend)."""

    dir: Path
    url: str


@pytest.fixture
def console_db(tmp_path: Path, db_url: str) -> ConsoleDb:
    return ConsoleDb(tmp_path, db_url)


async def drive(
    db: ConsoleDb, lang: str, role: str, steps: list[Step], *, sample_events: bool = False
) -> str:
    out: list[str] = []
    script = iter(steps)

    async def read_line() -> str | None:
        step = next(script, None)
        if step is None:
            return None
        line = step if isinstance(step, str) else step("\n".join(out))
        out.append(f"you> {line}")
        return line

    settings = make_settings(db.url)
    code = await run_console(
        settings,
        role=role,
        lang=lang,
        sample_events=sample_events,
        data_dir=db.dir / "data",
        read_line=read_line,
        write=out.append,
    )
    assert code == 0
    screen = "\n".join(out)
    assert "Bot API violation" not in screen
    return screen


@pytest.mark.parametrize(
    ("lang", "agree", "muni", "position", "subject", "done", "age", "finish", "ready"),
    [
        (
            "ru",
            "Я согласен",
            "Волгодонск",
            "Учитель",
            "Математика",
            "Готово",
            "до 35",
            "Всё верно",
            "профиль готов",
        ),
        (
            "en",
            "I agree",
            "Volgodonsk",
            "Teacher",
            "Mathematics",
            "Done",
            "under 35",
            "Everything is correct",
            "profile is ready",
        ),
    ],
)
async def test_console_onboarding(
    console_db: ConsoleDb,
    lang: str,
    agree: str,
    muni: str,
    position: str,
    subject: str,
    done: str,
    age: str,
    finish: str,
    ready: str,
) -> None:
    screen = await drive(
        console_db,
        lang,
        "teacher",
        [
            pick(agree),
            "Иванова Анна Петровна",
            pick(muni),
            pick("СОШ № 1"),
            pick(position),
            pick(subject),
            pick(done),
            "5",
            pick(age),
            pick(finish),
            ":q",
        ],
    )
    assert "152-" in screen
    assert ready in screen.lower()
    assert "⌨" in screen  # the main menu keyboard is shown


async def test_console_as_admin_and_coordinator(console_db: ConsoleDb) -> None:
    screen = await drive(console_db, "en", "admin", ["/staff", ":q"])
    assert "role: admin" in screen and "ADMIN_IDS are always admins" in screen  # /staff answered
    screen = await drive(console_db, "en", "coordinator", ["/schools", ":help", "#99", ":q"])
    assert "municipality" in screen.lower()  # a coordinator without a profile is told to set it
    assert "(no button #99 on screen)" in screen


async def test_stale_button_number_is_refused_politely(console_db: ConsoleDb) -> None:
    """A number whose button is gone (its message was edited) must not end the console."""
    screen = await drive(
        console_db,
        "ru",
        "teacher",
        [
            pick("Я согласен"),
            "Иванова Анна Петровна",
            pick("Волгодонск"),
            pick("СОШ № 1"),
            pick("Учитель"),
            pick("Математика"),
            pick("Готово"),
            "5",
            pick("до 35"),
            pick("Всё верно"),  # the card loses its buttons; only a reply keyboard is new
            "#3",  # was "✏️ Школа (ОО)" on the card
            "/help",
            ":q",
        ],
    )
    assert "you> #3\n(no such button: #3 is not on screen any more" in screen
    assert "Что я умею" in screen.split("you> /help", 1)[1]  # the console went on


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + (8).to_bytes(4, "big") * 2


async def test_console_session_buttons_gone_links_and_files(tmp_path: Path) -> None:
    """Buttons of a deleted message and link buttons are refused politely; photos are saved
    once (an edit does not save again, another file of the same name does not overwrite)."""
    user = EmuUser(id=700001, first_name="Анна", language_code="ru")
    out: list[str] = []
    async with BotAPIEmulator(token=CONSOLE_TOKEN) as emu:
        emu.add_user(user)
        bot = Bot(
            CONSOLE_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url))
        )
        console = ConsoleSession(emu, user, out.append, UpdateCounter(), tmp_path / "dl")
        try:
            keyboard = InlineKeyboardMarkup(
                inline_keyboard=[
                    [InlineKeyboardButton(text="Сайт", url="https://example.org/")],
                    [InlineKeyboardButton(text="Дальше", callback_data="next")],
                ]
            )
            menu = await bot.send_message(user.id, "Меню", reply_markup=keyboard)
            console.show_changes()
            assert out[-1] == "bot> Меню\n  [1] Сайт → https://example.org/\n  [2] Дальше"
            assert await console.handle("#1")
            assert (
                out[-1]
                == "(button #1 cannot be pressed in the console: it opens https://example.org/)"
            )
            await bot.delete_message(user.id, menu.message_id)
            console.show_changes()
            assert await console.handle("#2")
            assert out[-1].startswith("(no such button: #2 is not on screen any more")
            assert emu.calls_of("answerCallbackQuery") == [] and emu.pending_updates == []

            chart = await bot.send_photo(
                user.id, BufferedInputFile(PNG, "chart.png"), caption="строка 1\nстрока 2"
            )
            console.show_changes()
            saved = tmp_path / "dl" / "chart.png"
            assert out[-1] == f"bot> [photo] saved to {saved}\nстрока 1\nстрока 2"
            assert saved.read_bytes() == PNG
            await bot.edit_message_caption(
                chat_id=user.id, message_id=chart.message_id, caption="новая подпись"
            )
            console.show_changes()
            assert out[-1] == f"bot (edited)> [photo] saved to {saved} (новая подпись)"
            other = PNG + b"other"
            await bot.send_document(user.id, BufferedInputFile(other, "chart.png"))
            console.show_changes()
            assert out[-1] == f"bot> [document] saved to {saved.with_name('chart-2.png')}"
            assert (
                saved.read_bytes() == PNG and saved.with_name("chart-2.png").read_bytes() == other
            )
            assert sorted(p.name for p in saved.parent.iterdir()) == ["chart-2.png", "chart.png"]
        finally:
            await bot.session.close()
    emu.assert_no_violations()


async def test_broken_character_is_refused_and_the_bot_goes_on(console_db: ConsoleDb) -> None:
    """A line cut mid-character (a lone surrogate from the terminal) is not sent; the bot
    still answers the next line at once."""
    cut = "Иван".encode() + "о".encode()[:1]  # the last letter cut in half
    screen = await drive(
        console_db,
        "ru",
        "teacher",
        [cut.decode("utf-8", "surrogateescape"), "/help", ":q"],
    )
    assert "broken character" in screen and "please type it again" in screen
    assert "not finished answering" not in screen
    assert "Что я умею" in screen.split("you> /help", 1)[1]


def test_typed_text_recovers_whole_characters_and_refuses_cut_ones() -> None:
    whole = "Иванова".encode().decode("ascii", "surrogateescape")  # a non-UTF-8 terminal
    assert typed_text(whole) == "Иванова"
    assert typed_text("Иванова") == "Иванова"
    assert typed_text("Ивано\udcd0") is None
    assert typed_text("\ud83d") is None


async def test_photos_and_documents_are_saved_and_announced(
    console_db: ConsoleDb, tmp_path: Path
) -> None:
    """The QR code (a photo) and the participants' CSV (a document) land in
    data/console-downloads and the console says so."""
    screen = await drive(
        console_db,
        "ru",
        "admin",
        ["/myevents", pick("Оценка &"), pick("QR для отметки"), pick("Выгрузка CSV"), ":q"],
        sample_events=True,
    )
    downloads = tmp_path / "data" / "console-downloads"
    photo = re.search(r"bot> \[photo\] saved to (\S+\.png)", screen)
    assert photo is not None, screen[-1500:]
    assert Path(photo.group(1)).parent == downloads
    assert _bytes(photo.group(1)).startswith(b"\x89PNG")
    assert "/checkin" in screen.split(photo.group(0), 1)[1]  # the caption follows
    document = re.search(r"bot> \[document\] saved to (\S+\.csv)", screen)
    assert document is not None, screen[-1500:]
    assert Path(document.group(1)).parent == downloads
    assert _bytes(document.group(1)).decode("utf-8-sig").startswith("ФИО;")
    assert TRICKY_TITLE in screen.split(document.group(0), 1)[1]  # its caption


async def test_sample_events_are_imported_once(console_db: ConsoleDb) -> None:
    screen = await drive(console_db, "ru", "teacher", [":q"], sample_events=True)
    assert "sample sites and events imported: 7 created, 0 updated" in screen
    assert "--sample-events" in HELP and HELP in screen
    screen = await drive(console_db, "ru", "teacher", [":q"], sample_events=True)
    assert "sample sites and events: already in the database" in screen
    engine = create_async_engine(console_db.url)
    try:
        async with engine.connect() as db:
            codes = (await db.execute(select(Event.code))).scalars().all()
    finally:
        await engine.dispose()
    assert sorted(str(c) for c in codes) == sorted(SAMPLE_EVENT_CODES)  # once, no duplicates
    screen = await drive(console_db, "ru", "teacher", [":q"])
    assert "sample sites" not in screen  # only when asked for


def test_sample_events_option(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    async def fake_console(settings: object, **options: object) -> int:
        seen.update(options)
        return 0

    monkeypatch.setattr("devtools.console.run_console", fake_console)
    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite:///:memory:")
    assert main(["console", "--sample-events", "--role", "admin"]) == 0
    assert seen == {"role": "admin", "lang": "ru", "sample_events": True}
    assert main(["console"]) == 0
    assert seen["sample_events"] is False


async def test_logs_go_to_the_log_file_not_over_the_prompt(
    console_db: ConsoleDb, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A fresh database logs a warning (sample reference lists loaded): it goes to
    data/console.log, the console points at it between turns, the terminal stays clean."""
    root = logging.getLogger()
    terminal = logging.StreamHandler(sys.stderr)  # what logging.basicConfig would install
    root.addHandler(terminal)
    try:
        screen = await drive(console_db, "ru", "teacher", ["/help", ":q"])
        assert root.handlers.count(terminal) == 1  # given back afterwards
    finally:
        root.removeHandler(terminal)
    log_file = tmp_path / "data" / "console.log"
    assert "Logs go to" in screen and str(log_file) in screen
    assert "reference lists were empty" in log_file.read_text("utf-8")
    assert f"1 warning(s) or error(s) logged: see {log_file}" in screen
    assert screen.count("logged: see") == 1  # said once, not after every turn
    captured = capfd.readouterr()
    assert "reference lists were empty" not in captured.err + captured.out


async def test_the_console_moves_the_clock_and_shows_the_reminders(console_db: ConsoleDb) -> None:
    """`:time` jumps forward: the reminder of the event the teacher signed up for arrives."""
    day = (datetime.now(MSK) + timedelta(days=1)).date()  # the sample event is the day after
    screen = await drive(
        console_db,
        "en",
        "teacher",
        [
            pick("I agree"),
            "Anna Ivanova",
            pick("Volgodonsk"),
            pick("СОШ № 1"),
            pick("Teacher"),
            pick("Mathematics"),
            pick("Done"),
            "5",
            pick("under 35"),
            pick("Everything is correct"),
            "/events",
            pick("Оценка"),
            pick("✅ Sign up"),
            pick("✅ Yes, sign me up"),
            ":time",
            ":time yesterday",
            ":time -1d",
            f":time {day:%Y-%m-%d} 15:01",
            ":q",
        ],
        sample_events=True,
    )
    assert "You are registered!" in screen
    assert "(the bot's clock: " in screen
    assert "(:time +1d2h30m or :time YYYY-MM-DD HH:MM)" in screen
    reminder = screen[screen.index(f"you> :time {day:%Y-%m-%d} 15:01") :]
    assert "⏰ Reminder:" in reminder and "tomorrow at 15:00" in reminder
    assert "🔕 No more event reminders" in reminder


def test_time_jumps_are_read_forward_only() -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=MSK)
    assert time_jump("+1d2h30m", now, MSK) == timedelta(days=1, hours=2, minutes=30)
    assert time_jump("+45m", now, MSK) == timedelta(minutes=45)
    assert time_jump("2026-12-02 09:00", now, MSK) == timedelta(days=1)
    assert time_jump("2026-12-01 08:00", now, MSK) == "(the clock goes forward only)"
    assert isinstance(time_jump("+", now, MSK), str)
    assert isinstance(time_jump("soon", now, MSK), str)
