"""`python -m bot console`: talk to the real bot in a terminal, with no token and no internet.

It starts the Bot API emulator on 127.0.0.1, runs the real bot against it (polling through
aiogram's HTTP client) and turns what you type into updates. Type text to send it, `#N` to
press inline button N of the latest message, `:doc PATH` to send a file, `:time +1d2h` (or
`:time 2026-12-03 08:00`) to move the bot's clock forward and see what it sends by then
(reminders, agendas, offers that lapse), `:q` to quit.

Everything the console keeps lives in its data directory (`data/` by default): the files the
bot sends you (`console-downloads/`), the emulator's file store (`console-files/`, so file ids
kept in the database stay valid after a restart) and the log (`console.log`: log lines would
otherwise be printed over the `you>` prompt).
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from bot.app import BotApp
from bot.imports import ImportFormatError, import_file
from bot.middlewares import UpdateCounter
from core.clock import ShiftedClock
from core.settings import Settings
from db.reference.sample_events import SAMPLE_EVENT_CODES, sample_events_csv, sample_sites_csv
from db.repo import Repo
from devtools.emulator import BotAPIEmulator, BotMessage, EmuUser, load_spec
from domain.roles import Role
from domain.scope import Assignment

log = logging.getLogger(__name__)

CONSOLE_TOKEN = "100000:CONSOLE-local-emulator-token"
CONSOLE_USER_ID = 700001
SPEC_PATH = Path(__file__).resolve().parents[2] / "shared" / "botapi" / "flat-10.2.json"
DATA_DIR = Path("data")
DOWNLOADS = "console-downloads"
FILE_STORE = "console-files"
LOG_FILE = "console.log"
HELP = (
    "Type a message and press Enter. #N presses inline button N of the latest message;\n"
    ":doc PATH sends a file; :time +1d2h30m or :time YYYY-MM-DD HH:MM moves the bot's clock\n"
    "forward (reminders and other scheduled messages arrive); :time shows it;\n"
    ":help shows this; :q (or Ctrl-D) quits.\n"
    "Photos and files the bot sends are saved to data/console-downloads/.\n"
    "Start with --sample-events to add the sample internship sites and events."
)

ReadLine = Callable[[], Awaitable[str | None]]
Write = Callable[[str], None]
#: `:time ARG` → what to print (moves the bot's clock and runs what became due)
Travel = Callable[[str], Awaitable[str]]

_SPAN = re.compile(r"\+(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?")


def time_jump(arg: str, now: datetime, tz: tzinfo) -> timedelta | str:
    """How far `:time ARG` moves the clock: "+1d2h30m", or a local "YYYY-MM-DD HH:MM" ahead;
    or why not."""
    arg = arg.strip()
    if match := _SPAN.fullmatch(arg):
        days, hours, minutes = (int(part or 0) for part in match.groups())
        delta = timedelta(days=days, hours=hours, minutes=minutes)
        return delta if delta > timedelta(0) else "(say how far: :time +1d, +2h, +30m)"
    try:
        target = datetime.strptime(arg, "%Y-%m-%d %H:%M").replace(tzinfo=tz)
    except ValueError:
        return "(:time +1d2h30m or :time YYYY-MM-DD HH:MM)"
    if target <= now:
        return "(the clock goes forward only)"
    return target - now


async def _stdin_line() -> str | None:
    try:
        return await asyncio.to_thread(input, "you> ")
    except EOFError:
        return None


def _tolerant_stdin() -> None:
    """Undecodable terminal input arrives as surrogate escapes instead of killing `input()`;
    `typed_text` then recovers it or rejects the line."""
    if isinstance(sys.stdin, io.TextIOWrapper) and sys.stdin.errors == "strict":
        sys.stdin.reconfigure(errors="surrogateescape")


def typed_text(line: str) -> str | None:
    """The typed line as valid text, or None when a character in it is broken.

    A terminal whose encoding is not UTF-8 (or input read with `surrogateescape`) gives raw
    bytes as lone surrogates: they are decoded as UTF-8 if they form whole characters.
    A character cut in half cannot be repaired: the line is refused, not sent damaged.
    """
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        try:
            return line.encode("utf-8", "surrogateescape").decode("utf-8")
        except UnicodeError:
            return None
    return line


def _read_file(path: Path) -> bytes:
    return path.expanduser().read_bytes()


def _save(folder: Path, name: str, content: bytes) -> Path:
    """Write a received file into `folder` without overwriting a different earlier one."""
    folder.mkdir(parents=True, exist_ok=True)
    safe = Path(name.replace("\\", "/")).name.lstrip(".") or "file"
    stem, dot, suffix = safe.rpartition(".")
    if not dot:
        stem, suffix = safe, ""
    for n in range(1, 10_000):
        candidate = folder / (safe if n == 1 else f"{stem}-{n}{dot}{suffix}")
        if not candidate.exists():
            candidate.write_bytes(content)
            return candidate
        if candidate.read_bytes() == content:
            return candidate
    raise OSError(f"too many files named {safe} in {folder}")


def _with_caption(line: str, caption: str) -> str:
    """`line (caption)` for a one-line caption, the caption below it otherwise."""
    if not caption:
        return line
    if "\n" in caption:
        return f"{line}\n{caption}"
    return f"{line} ({caption})"


class _LogNotes(logging.Handler):
    """Counts warnings and errors so the console can point at the log between turns."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


@contextmanager
def _logs_to_file(path: Path, level: str) -> Iterator[_LogNotes]:
    """Send every log record to `path` (and none to the terminal) while the console runs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    to_file = logging.FileHandler(path, encoding="utf-8")
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    notes = _LogNotes()
    terminal = [
        h
        for h in root.handlers
        if type(h) is logging.StreamHandler and h.stream in (sys.stderr, sys.stdout)
    ]
    old_level = root.level
    for handler in terminal:
        root.removeHandler(handler)
    root.addHandler(to_file)
    root.addHandler(notes)
    root.setLevel(level)
    try:
        yield notes
    finally:
        root.removeHandler(notes)
        root.removeHandler(to_file)
        to_file.close()
        root.setLevel(old_level)
        for handler in terminal:
            root.addHandler(handler)


class ConsoleSession:
    """The loop between the terminal and the emulator; reused by the console's own test."""

    def __init__(
        self,
        emu: BotAPIEmulator,
        user: EmuUser,
        write: Write,
        counter: UpdateCounter,
        downloads: Path = DATA_DIR / DOWNLOADS,
        travel: Travel | None = None,
    ) -> None:
        self.emu = emu
        self.travel = travel
        self.counter = counter
        self.user = user
        self.write = write
        self.downloads = downloads
        self._seen: dict[int, tuple[str | None, str]] = {}
        self._saved: dict[int, Path] = {}
        self._answers = 0
        self._buttons: dict[int, tuple[int, dict[str, Any]]] = {}

    def _render(
        self, message: BotMessage, edited: bool, first: int
    ) -> tuple[str, list[dict[str, Any]]]:
        """The message as printed (its buttons numbered from `first`), and those buttons."""
        head = "bot (edited)>" if edited else "bot>"
        text = message.plain_text
        stored = self.emu.file(message.file_id) if message.file_id else None
        if message.kind in ("photo", "document") and stored is not None:
            target = self._saved.get(message.message_id)
            if target is None:
                target = _save(self.downloads, stored.filename, stored.content)
                self._saved[message.message_id] = target
            lines = [_with_caption(f"{head} [{message.kind}] saved to {target}", text)]
        else:
            lines = [f"{head} {text}"]
        buttons: list[dict[str, Any]] = []
        for row in message.inline_buttons:
            cells = []
            for button in row:
                buttons.append(button)
                label = str(button.get("text", ""))
                if button.get("url"):
                    label += f" → {button['url']}"
                cells.append(f"[{first + len(buttons) - 1}] {label}")
            lines.append("  " + "   ".join(cells))
        if message.reply_keyboard_texts:
            lines.append("  ⌨ " + " | ".join(message.reply_keyboard_texts))
        return "\n".join(lines), buttons

    def show_changes(self) -> None:
        numbered: dict[int, tuple[int, dict[str, Any]]] = {}
        for message in self.emu.chat(self.user.id):
            key = (message.text or message.caption, repr(message.reply_markup))
            previous = self._seen.get(message.message_id)
            if previous == key:
                continue
            shown, buttons = self._render(message, previous is not None, len(numbered) + 1)
            self.write(shown)
            for button in buttons:
                numbered[len(numbered) + 1] = (message.message_id, button)
            self._seen[message.message_id] = key
        if numbered:
            self._buttons = numbered
        for call in self.emu.calls_of("answerCallbackQuery")[self._answers :]:
            if call.params.get("text"):
                self.write(f"bot (popup)> {call.params['text']}")
        self._answers = len(self.emu.calls_of("answerCallbackQuery"))

    async def handle(self, line: str) -> bool:
        """Act on one typed line; False means quit. A mistake never ends the console."""
        try:
            return await self._handle(line)
        except Exception as error:
            log.exception("console: %r failed", line)
            self.write(f"(the console could not do that: {error}; go on)")
            return True

    def _press(self, number: int) -> bool:
        """Press button #number if it is still on screen; say why not otherwise."""
        target = self._buttons.get(number)
        if target is None:
            self.write(f"(no button #{number} on screen)")
            return False
        message_id, button = target
        current = next((m for m in self.emu.chat(self.user.id) if m.message_id == message_id), None)
        if current is None or button not in current.all_inline_buttons:
            self.write(
                f"(no such button: #{number} is not on screen any more; "
                "press one of the buttons shown last)"
            )
            return False
        data = button.get("callback_data")
        if not isinstance(data, str):
            where = f": it opens {button['url']}" if button.get("url") else ""
            self.write(f"(button #{number} cannot be pressed in the console{where})")
            return False
        self.emu.press_button(self.user, message_id, data)
        return True

    async def _handle(self, line: str) -> bool:
        text = typed_text(line)
        if text is None:
            self.write(
                "(that line has a broken character (cut in half or not UTF-8), "
                "so it was not sent; please type it again)"
            )
            return True
        line = text.strip()
        if line in {":q", ":quit", ":exit"}:
            return False
        if line == ":help":
            self.write(HELP)
            return True
        if not line:
            return True
        if line == ":time" or line.startswith(":time "):
            if self.travel is None:
                self.write("(this console cannot move the clock)")
            else:
                self.write(await self.travel(line[5:]))
                self.show_changes()
            return True
        target_count = self.counter.count + 1
        if match := re.fullmatch(r"#(\d+)", line):
            if not self._press(int(match.group(1))):
                return True
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


async def import_sample_events(app: BotApp) -> str:
    """Import the shipped sample sites and events unless they are there; say what happened."""
    tz = app.settings.tz
    now = app.clock.now()
    async with app.sessionmaker() as session:
        repo = Repo(session)
        present = (await repo.imports.codes()).events
        if all(code in present for code in SAMPLE_EVENT_CODES):
            return "sample sites and events: already in the database"
        created = updated = 0
        for name, data in (
            ("sample_sites.csv", sample_sites_csv()),
            ("sample_events.csv", sample_events_csv(now.astimezone(tz).date())),
        ):
            try:
                outcome = await import_file(
                    repo, data, name, allowed_municipalities=None, actor=None, tz=tz, now=now
                )
            except ImportFormatError as exc:
                return f"sample sites and events not imported: {name}: {exc}"
            if not outcome.ok:
                await session.rollback()
                problems = "; ".join(
                    f"row {r.row} {r.key}: {', '.join(map(str, r.errors))}"
                    for r in outcome.reports
                    if r.errors
                )
                return f"sample sites and events not imported: {name}: {problems}"
            created += outcome.created
            updated += outcome.updated
        await session.commit()
    return f"sample sites and events imported: {created} created, {updated} updated"


async def run_console(
    settings: Settings,
    *,
    role: str = "teacher",
    lang: str = "ru",
    sample_events: bool = False,
    data_dir: Path = DATA_DIR,
    read_line: ReadLine | None = None,
    write: Write = print,
) -> int:
    log_file = data_dir / LOG_FILE
    with _logs_to_file(log_file, settings.log_level) as notes:
        return await _run(settings, role, lang, sample_events, data_dir, read_line, write, notes)


async def _run(
    settings: Settings,
    role: str,
    lang: str,
    sample_events: bool,
    data_dir: Path,
    read_line: ReadLine | None,
    write: Write,
    notes: _LogNotes,
) -> int:
    spec = load_spec(SPEC_PATH)
    emu = BotAPIEmulator(
        token=CONSOLE_TOKEN,
        spec=spec,
        bot_username="metodbot_console_bot",
        file_store=data_dir / FILE_STORE,
    )
    await emu.start()
    settings = settings.model_copy(
        update={
            "bot_token": CONSOLE_TOKEN,
            "telegram_api_base": emu.base_url,
            "admin_ids": [CONSOLE_USER_ID] if role == "admin" else [],
        }
    )
    clock = ShiftedClock()
    app = BotApp(settings, clock=clock)

    async def travel(arg: str) -> str:
        if arg.strip():
            jump = time_jump(arg, clock.now(), settings.tz)
            if isinstance(jump, str):
                return jump
            clock.shift(jump)
            await app.tick()
        return f"(the bot's clock: {clock.now().astimezone(settings.tz):%Y-%m-%d %H:%M %Z})"

    try:
        await app.setup()
        if role == "coordinator":
            async with app.sessionmaker() as db:
                repo = Repo(db)
                row, _ = await repo.users.get_or_create(CONSOLE_USER_ID, lang)
                scope = row.municipality_id or (await repo.reference.municipalities())[0].id
                await repo.users.set_role(row, Role.COORDINATOR)
                await repo.staff.replace(
                    row, [Assignment(municipality_id=scope)], None, clock.now()
                )
                await db.commit()
        imported = await import_sample_events(app) if sample_events else None
        await app.start_polling()
        user = EmuUser(
            id=CONSOLE_USER_ID, first_name="Console", last_name="User", language_code=lang
        )
        write(
            f"metodbot console — role: {role}, client language: {lang}, database: {settings.database_url}"
        )
        write(f"Bot API emulator at {emu.base_url}" + ("" if spec else " (spec validation off)"))
        write(f"Logs go to {data_dir / LOG_FILE}, not to this screen.")
        if imported:
            write(imported)
        write(HELP)
        console = ConsoleSession(
            emu, user, write, app.dp["update_counter"], data_dir / DOWNLOADS, travel
        )
        if read_line is None:
            _tolerant_stdin()
        read = read_line or _stdin_line
        warnings = 0  # setup's warnings too (such as sample reference lists loaded)
        line: str | None = "/start"
        while line is not None:
            if not await console.handle(line):
                break
            if notes.count > warnings:
                write(
                    f"({notes.count - warnings} warning(s) or error(s) logged: "
                    f"see {data_dir / LOG_FILE})"
                )
                warnings = notes.count
            line = await read()
        for violation in emu.violations:
            write(f"(Bot API violation: {violation})")
        return 0
    finally:
        await app.stop()
        await emu.stop()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(asyncio.run(run_console(Settings())))
