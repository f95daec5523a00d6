"""`python -m bot console`: talk to the real bot in a terminal, with no token and no internet.

It starts the Bot API emulator on 127.0.0.1, runs the real bot against it (polling through
aiogram's HTTP client) and turns what you type into updates. Type text to send it, `#N` to
press inline button N of the latest message, `:doc PATH` to send a file, `:q` to quit.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.app import BotApp
from bot.config import Settings
from bot.emulator import BotAPIEmulator, BotMessage, EmuUser, load_spec
from bot.middlewares import UpdateCounter
from db.repo import Repo
from domain.roles import Role

CONSOLE_TOKEN = "100000:CONSOLE-local-emulator-token"
CONSOLE_USER_ID = 700001
SPEC_PATH = Path(__file__).resolve().parents[2] / "shared" / "botapi" / "flat-10.2.json"
DOWNLOADS = Path("data") / "console-downloads"
HELP = (
    "Type a message and press Enter. #N presses inline button N of the latest message;\n"
    ":doc PATH sends a file; :help shows this; :q (or Ctrl-D) quits."
)

ReadLine = Callable[[], Awaitable[str | None]]
Write = Callable[[str], None]


async def _stdin_line() -> str | None:
    try:
        return await asyncio.to_thread(input, "you> ")
    except EOFError:
        return None


def _read_file(path: Path) -> bytes:
    return path.expanduser().read_bytes()


def _render(message: BotMessage, numbering: dict[int, str], edited: bool) -> str:
    head = "bot (edited)>" if edited else "bot>"
    lines = [f"{head} {message.plain_text}"]
    if message.document is not None:
        name, content = message.document
        DOWNLOADS.mkdir(parents=True, exist_ok=True)
        target = DOWNLOADS / name
        target.write_bytes(content)
        lines.append(f"  📎 {name} ({len(content)} bytes) saved to {target}")
    for row in message.inline_buttons:
        cells = []
        for button in row:
            number = len(numbering) + 1
            numbering[number] = str(button.get("callback_data") or "")
            label = button.get("text", "")
            if button.get("url"):
                label += f" → {button['url']}"
            cells.append(f"[{number}] {label}")
        lines.append("  " + "   ".join(cells))
    if message.reply_keyboard_texts:
        lines.append("  ⌨ " + " | ".join(message.reply_keyboard_texts))
    return "\n".join(lines)


class ConsoleSession:
    """The loop between the terminal and the emulator; reused by the console's own test."""

    def __init__(
        self, emu: BotAPIEmulator, user: EmuUser, write: Write, counter: UpdateCounter
    ) -> None:
        self.emu = emu
        self.counter = counter
        self.user = user
        self.write = write
        self._seen: dict[int, tuple[str | None, str]] = {}
        self._answers = 0
        self._buttons: dict[int, tuple[int, str]] = {}

    def show_changes(self) -> None:
        numbering: dict[int, str] = {}
        owner: dict[int, int] = {}
        for message in self.emu.chat(self.user.id):
            key = (message.text or message.caption, repr(message.reply_markup))
            previous = self._seen.get(message.message_id)
            if previous == key:
                continue
            before = len(numbering)
            self.write(_render(message, numbering, edited=previous is not None))
            for n in range(before + 1, len(numbering) + 1):
                owner[n] = message.message_id
            self._seen[message.message_id] = key
        if numbering:
            self._buttons = {n: (owner[n], data) for n, data in numbering.items()}
        for call in self.emu.calls_of("answerCallbackQuery")[self._answers :]:
            if call.params.get("text"):
                self.write(f"bot (popup)> {call.params['text']}")
        self._answers = len(self.emu.calls_of("answerCallbackQuery"))

    async def handle(self, line: str) -> bool:
        """Act on one typed line; False means quit."""
        line = line.strip()
        if line in {":q", ":quit", ":exit"}:
            return False
        if line == ":help":
            self.write(HELP)
            return True
        if not line:
            return True
        target_count = self.counter.count + 1
        if match := re.fullmatch(r"#(\d+)", line):
            target = self._buttons.get(int(match.group(1)))
            if target is None:
                self.write(f"(no button #{match.group(1)} on screen)")
                return True
            self.emu.press_button(self.user, target[0], target[1])
        elif line.startswith(":doc "):
            path = Path(line[5:].strip())
            try:
                content = await asyncio.to_thread(_read_file, path)
            except OSError as exc:
                self.write(f"(cannot read {path}: {exc.strerror})")
                return True
            self.emu.send_document(self.user, path.name, content)
        else:
            self.emu.send_message(self.user, line)
        try:
            await self.counter.wait_for(target_count, timeout=30)
        except TimeoutError:
            self.write("(the bot has not finished answering yet)")
        self.show_changes()
        return True


async def run_console(
    settings: Settings,
    *,
    role: str = "teacher",
    lang: str = "ru",
    read_line: ReadLine | None = None,
    write: Write = print,
) -> int:
    spec = load_spec(SPEC_PATH)
    emu = BotAPIEmulator(token=CONSOLE_TOKEN, spec=spec, bot_username="metodbot_console_bot")
    await emu.start()
    settings = settings.model_copy(
        update={
            "bot_token": CONSOLE_TOKEN,
            "telegram_api_base": emu.base_url,
            "admin_ids": [CONSOLE_USER_ID] if role == "admin" else [],
        }
    )
    app = BotApp(settings)
    try:
        await app.setup()
        if role == "coordinator":
            async with app.sessionmaker() as db:
                repo = Repo(db)
                row, _ = await repo.users.get_or_create(CONSOLE_USER_ID, lang)
                scope = row.municipality_id or (await repo.reference.municipalities())[0].id
                await repo.users.set_role(row, Role.COORDINATOR, scope)
                await db.commit()
        await app.start_polling()
        user = EmuUser(
            id=CONSOLE_USER_ID, first_name="Console", last_name="User", language_code=lang
        )
        write(
            f"metodbot console — role: {role}, client language: {lang}, database: {settings.database_url}"
        )
        write(f"Bot API emulator at {emu.base_url}" + ("" if spec else " (spec validation off)"))
        write(HELP)
        console = ConsoleSession(emu, user, write, app.dp["update_counter"])
        read = read_line or _stdin_line
        if not await console.handle("/start"):
            return 0
        while (line := await read()) is not None:
            if not await console.handle(line):
                break
        for violation in emu.violations:
            write(f"(Bot API violation: {violation})")
        return 0
    finally:
        await app.stop()
        await emu.stop()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(asyncio.run(run_console(Settings())))
