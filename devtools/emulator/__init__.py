"""Local Telegram Bot API emulator for end-to-end tests and the terminal console.

Typical use::

    spec = load_spec(Path("/work/shared/botapi/flat-10.2.json"))
    async with BotAPIEmulator(token=TOKEN, spec=spec) as emu:
        bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url)))
        ...
        emu.send_message(user, "/start")
        reply = await emu.wait_for_message(user.id)
        emu.assert_no_violations()
"""

from devtools.emulator.formatting import ParsedText, parse_formatted, strip_formatting, utf16_len
from devtools.emulator.limits import check_limits
from devtools.emulator.models import (
    ApiViolation,
    BotMessage,
    EmulatorTimeout,
    EmuUser,
    RecordedCall,
    StoredFile,
)
from devtools.emulator.ratelimit import RateLimits
from devtools.emulator.server import NOT_MODIFIED, BotAPIEmulator, CallHook
from devtools.emulator.spec import SpecValidator, load_spec

__all__ = [
    "NOT_MODIFIED",
    "ApiViolation",
    "BotAPIEmulator",
    "BotMessage",
    "CallHook",
    "EmuUser",
    "EmulatorTimeout",
    "ParsedText",
    "RateLimits",
    "RecordedCall",
    "SpecValidator",
    "StoredFile",
    "check_limits",
    "load_spec",
    "parse_formatted",
    "strip_formatting",
    "utf16_len",
]
