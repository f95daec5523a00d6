"""Documented Bot API limits, checked on every call with or without a spec.

:func:`check_limits` returns human-readable problems such as
``"sendMessage: text: 5000 chars, limit 1-4096"``; an empty list means the call is fine.
Lengths are counted in UTF-16 code units after entities parsing, as Telegram does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from devtools.emulator.formatting import PARSE_MODES, parse_formatted, utf16_len

__all__ = [
    "CALLBACK_DATA_MAX_BYTES",
    "CAPTION_MAX",
    "INLINE_BUTTON_ACTIONS",
    "TEXT_MAX",
    "check_keyboard",
    "check_limits",
    "check_text",
]

TEXT_MAX = 4096
CAPTION_MAX = 1024
CALLBACK_DATA_MAX_BYTES = 64
CALLBACK_ANSWER_MAX = 200
COMMANDS_MAX = 100
COMMAND_DESCRIPTION_MAX = 256
DESCRIPTION_MAX = 512
SHORT_DESCRIPTION_MAX = 120
BOT_NAME_MAX = 64
START_PAYLOAD_MAX = 64

#: Fields of an inline keyboard button that define what it does; exactly one must be set.
INLINE_BUTTON_ACTIONS: tuple[str, ...] = (
    "callback_data",
    "url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "login_url",
    "web_app",
    "copy_text",
    "pay",
    "callback_game",
)

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_START_PAYLOAD_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_DEEP_LINK_RE = re.compile(
    r"(?:https?://)?t\.me/\w+\?start(?:group)?=([^\s&\"'<>#]*)", re.IGNORECASE
)
_URL_SCHEMES = ("http://", "https://", "tg://")
_TEXT_METHODS = frozenset({"sendmessage", "editmessagetext"})


def check_text(
    value: Any,
    parse_mode: Any,
    *,
    where: str,
    minimum: int,
    maximum: int,
) -> list[str]:
    """Check formatted text: markup must parse and the visible length must be in range."""
    if not isinstance(value, str):
        return []  # the type check reports it
    problems: list[str] = []
    mode = parse_mode if isinstance(parse_mode, str) else None
    parsed = parse_formatted(value, mode)
    problems.extend(f"{where}: can't parse entities: {error}" for error in parsed.errors)
    length = utf16_len(parsed.text)
    if not minimum <= length <= maximum:
        problems.append(f"{where}: {length} chars, limit {minimum}-{maximum}")
    elif minimum > 0 and not parsed.text.strip():
        problems.append(f"{where}: text is empty after entities parsing")
    problems.extend(_check_deep_links(parsed.text, where))
    for entity in parsed.entities:
        if entity.get("type") == "text_link":
            problems.extend(_check_url(entity.get("url"), f"{where}: link"))
    return problems


def _check_deep_links(text: str, where: str) -> list[str]:
    problems: list[str] = []
    for match in _DEEP_LINK_RE.finditer(text):
        payload = match.group(1).rstrip(".,;:!?)]}»")
        if not _START_PAYLOAD_RE.fullmatch(payload):
            problems.append(
                f"{where}: deep-link start payload {payload!r} must be 1-{START_PAYLOAD_MAX} "
                "chars of A-Z a-z 0-9 _ -"
            )
    return problems


def _check_url(url: Any, where: str) -> list[str]:
    if not isinstance(url, str) or not url.strip():
        return [f"{where}: URL must be a non-empty string"]
    if not url.lower().startswith(_URL_SCHEMES):
        return [f"{where}: URL {url!r} is invalid (http://, https:// or tg:// expected)"]
    return _check_deep_links(url, where)


def _check_parse_mode(params: Mapping[str, Any], key: str, prefix: str) -> list[str]:
    if key not in params:
        return []
    value = params[key]
    if not isinstance(value, str) or value.lower() not in {m.lower() for m in PARSE_MODES}:
        return [f"{prefix}{key}: unsupported parse mode {value!r} (HTML, MarkdownV2 or Markdown)"]
    return []


def check_keyboard(markup: Any, where: str = "reply_markup") -> list[str]:
    """Check an inline or reply keyboard (``reply_markup`` JSON)."""
    if not isinstance(markup, Mapping):
        return []
    problems: list[str] = []
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list):
            return [f"{where}.inline_keyboard: must be an array of arrays of buttons"]
        for r, row in enumerate(rows):
            if not isinstance(row, list):
                problems.append(f"{where}.inline_keyboard[{r}]: must be an array of buttons")
                continue
            for c, button in enumerate(row):
                problems.extend(_check_inline_button(button, f"{where}.inline_keyboard[{r}][{c}]"))
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list):
            return [*problems, f"{where}.keyboard: must be an array of arrays of buttons"]
        for r, row in enumerate(rows):
            if not isinstance(row, list):
                problems.append(f"{where}.keyboard[{r}]: must be an array of buttons")
                continue
            for c, button in enumerate(row):
                text = button.get("text") if isinstance(button, Mapping) else button
                if not isinstance(text, str) or not text.strip():
                    problems.append(f"{where}.keyboard[{r}][{c}].text: must be a non-empty string")
    return problems


def _check_inline_button(button: Any, where: str) -> list[str]:
    if not isinstance(button, Mapping):
        return [f"{where}: must be an InlineKeyboardButton object"]
    problems: list[str] = []
    text = button.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append(f"{where}.text: must be a non-empty string")
    actions = [name for name in INLINE_BUTTON_ACTIONS if name in button]
    if len(actions) != 1:
        found = ", ".join(actions) or "none"
        problems.append(f"{where}: exactly one action field required, found {found}")
    if "callback_data" in button:
        data = button["callback_data"]
        if isinstance(data, str):
            size = len(data.encode("utf-8"))
            if not 1 <= size <= CALLBACK_DATA_MAX_BYTES:
                problems.append(
                    f"{where}.callback_data: {size} bytes, limit 1-{CALLBACK_DATA_MAX_BYTES}"
                )
    if "url" in button:
        problems.extend(_check_url(button["url"], f"{where}.url"))
    return problems


def _check_media_captions(media: Any, method: str) -> list[str]:
    items = media if isinstance(media, list) else [media]
    problems: list[str] = []
    for index, item in enumerate(items):
        if isinstance(item, Mapping):
            where = f"{method}: media[{index}]" if isinstance(media, list) else f"{method}: media"
            problems.extend(_check_parse_mode(item, "parse_mode", f"{where}."))
            if "caption" in item:
                problems.extend(
                    check_text(
                        item["caption"],
                        item.get("parse_mode"),
                        where=f"{where}.caption",
                        minimum=0,
                        maximum=CAPTION_MAX,
                    )
                )
    return problems


def _check_length(value: Any, where: str, minimum: int, maximum: int) -> list[str]:
    if not isinstance(value, str):
        return []
    length = utf16_len(value)
    if not minimum <= length <= maximum:
        return [f"{where}: {length} chars, limit {minimum}-{maximum}"]
    return []


def _check_commands(method: str, commands: Any) -> list[str]:
    if not isinstance(commands, list):
        return []
    problems: list[str] = []
    if len(commands) > COMMANDS_MAX:
        problems.append(f"{method}: commands: {len(commands)} commands, limit {COMMANDS_MAX}")
    seen: set[str] = set()
    for index, item in enumerate(commands):
        if not isinstance(item, Mapping):
            continue
        command = item.get("command")
        where = f"{method}: commands[{index}]"
        if isinstance(command, str):
            if not _COMMAND_RE.fullmatch(command):
                problems.append(f"{where}.command: {command!r} must be 1-32 chars of a-z 0-9 _")
            if command in seen:
                problems.append(f"{where}.command: duplicate command {command!r}")
            seen.add(command)
        problems.extend(
            _check_length(
                item.get("description"), f"{where}.description", 1, COMMAND_DESCRIPTION_MAX
            )
        )
    return problems


def check_limits(method: str, params: Mapping[str, Any]) -> list[str]:
    """Check the documented limits of one call; ``params`` are already JSON-decoded."""
    name = method.lower()
    prefix = f"{method}: "
    problems: list[str] = []
    problems.extend(_check_parse_mode(params, "parse_mode", prefix))
    if name in _TEXT_METHODS and ("text" in params or name == "sendmessage"):
        problems.extend(
            check_text(
                params.get("text", ""),
                params.get("parse_mode"),
                where=f"{method}: text",
                minimum=1,
                maximum=TEXT_MAX,
            )
        )
    if "caption" in params:
        problems.extend(
            check_text(
                params["caption"],
                params.get("parse_mode"),
                where=f"{method}: caption",
                minimum=0,
                maximum=CAPTION_MAX,
            )
        )
    if "media" in params:
        problems.extend(_check_media_captions(params["media"], method))
    if "reply_markup" in params:
        problems.extend(check_keyboard(params["reply_markup"], f"{method}: reply_markup"))
    if name == "answercallbackquery":
        problems.extend(
            _check_length(params.get("text"), f"{method}: text", 0, CALLBACK_ANSWER_MAX)
        )
        if "url" in params:
            problems.extend(_check_url(params["url"], f"{method}: url"))
    elif name == "setmycommands":
        problems.extend(_check_commands(method, params.get("commands")))
    elif name == "setmydescription":
        problems.extend(
            _check_length(params.get("description"), f"{method}: description", 0, DESCRIPTION_MAX)
        )
    elif name == "setmyshortdescription":
        problems.extend(
            _check_length(
                params.get("short_description"),
                f"{method}: short_description",
                0,
                SHORT_DESCRIPTION_MAX,
            )
        )
    elif name == "setmyname":
        problems.extend(_check_length(params.get("name"), f"{method}: name", 0, BOT_NAME_MAX))
    elif name == "sendchataction":
        action = params.get("action")
        if action not in CHAT_ACTIONS:
            problems.append(f"{method}: action: unsupported chat action {action!r}")
    elif name == "deletemessages":
        ids = params.get("message_ids")
        if isinstance(ids, list) and not 1 <= len(ids) <= 100:
            problems.append(f"{method}: message_ids: {len(ids)} ids, limit 1-100")
    elif name == "getupdates":
        limit = params.get("limit")
        if isinstance(limit, int) and not 1 <= limit <= 100:
            problems.append(f"{method}: limit: {limit}, limit 1-100")
        timeout = params.get("timeout")
        if isinstance(timeout, int) and timeout < 0:
            problems.append(f"{method}: timeout: must not be negative")
    return problems
