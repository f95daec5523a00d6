"""Data objects of the Bot API emulator: users, bot messages, recorded calls, stored files."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from devtools.emulator.formatting import strip_formatting

__all__ = [
    "ApiViolation",
    "BotMessage",
    "EmuUser",
    "EmulatorTimeout",
    "MessageKind",
    "RecordedCall",
    "StoredFile",
]

MessageKind = Literal["text", "document", "photo"]


class ApiViolation(AssertionError):
    """Raised by :meth:`BotAPIEmulator.assert_no_violations` when the bot broke the API rules."""

    def __init__(self, violations: list[str]) -> None:
        self.violations = list(violations)
        lines = "\n".join(f"  - {item}" for item in self.violations)
        super().__init__(f"{len(self.violations)} Bot API violation(s):\n{lines}")


class EmulatorTimeout(AssertionError, TimeoutError):
    """A ``wait_*`` helper timed out; both an ``AssertionError`` and an ``asyncio.TimeoutError``."""


@dataclass(frozen=True)
class EmuUser:
    """A Telegram user talking to the bot; the private chat with them has ``id == user.id``."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_premium: bool = False

    def to_api(self) -> dict[str, Any]:
        """The ``User`` object as the Bot API sends it."""
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        if self.is_premium:
            data["is_premium"] = True
        return data

    def chat_api(self) -> dict[str, Any]:
        """The private ``Chat`` object with this user."""
        data: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class BotMessage:
    """A message the bot sent, in its current state (edits are applied in place)."""

    message_id: int
    chat_id: int
    text: str | None = None
    caption: str | None = None
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    kind: MessageKind = "text"
    document: tuple[str, bytes] | None = None
    photo: bytes | None = None
    edited: bool = False
    deleted: bool = False
    date: int = 0
    file_id: str | None = None
    mime_type: str | None = None

    @property
    def inline_buttons(self) -> list[list[dict[str, Any]]]:
        """Rows of inline keyboard buttons (empty without an inline keyboard)."""
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard")
        if not isinstance(rows, list):
            return []
        return [[b for b in row if isinstance(b, dict)] for row in rows if isinstance(row, list)]

    @property
    def all_inline_buttons(self) -> list[dict[str, Any]]:
        """All inline buttons, row by row."""
        return [button for row in self.inline_buttons for button in row]

    def button(self, text: str) -> dict[str, Any]:
        """The inline button whose text equals ``text`` (or, failing that, contains it)."""
        buttons = self.all_inline_buttons
        for button in buttons:
            if button.get("text") == text:
                return button
        for button in buttons:
            if text in str(button.get("text", "")):
                return button
        shown = [b.get("text") for b in buttons]
        raise AssertionError(
            f"no inline button {text!r} in message {self.message_id}; buttons: {shown}"
        )

    @property
    def reply_keyboard_texts(self) -> list[str]:
        """Texts of reply keyboard buttons (empty without a reply keyboard)."""
        markup = self.reply_markup or {}
        rows = markup.get("keyboard")
        if not isinstance(rows, list):
            return []
        texts: list[str] = []
        for row in rows:
            for button in row if isinstance(row, list) else []:
                text = button.get("text") if isinstance(button, dict) else button
                if isinstance(text, str):
                    texts.append(text)
        return texts

    @property
    def plain_text(self) -> str:
        """Text or caption as the user sees it: markup removed, HTML entities unescaped."""
        raw = self.text if self.text is not None else self.caption
        if raw is None:
            return ""
        return strip_formatting(raw, self.parse_mode)

    def describe(self) -> str:
        """One human-readable block describing the message (used in failure dumps)."""
        flags: list[str] = [self.kind]
        if self.edited:
            flags.append("edited")
        if self.deleted:
            flags.append("deleted")
        head = f"#{self.message_id} [{', '.join(flags)}]"
        if self.document is not None:
            head += f" file={self.document[0]!r} ({len(self.document[1])} bytes)"
        lines = [head, *("    " + line for line in self.plain_text.splitlines() or [""])]
        for row in self.inline_buttons:
            cells = [f"[{b.get('text')} -> {_button_action(b)}]" for b in row]
            lines.append("    " + " ".join(cells))
        if self.reply_keyboard_texts:
            lines.append("    keyboard: " + " | ".join(self.reply_keyboard_texts))
        return "\n".join(lines)


def _button_action(button: dict[str, Any]) -> str:
    for key in ("callback_data", "url", "web_app", "switch_inline_query", "copy_text"):
        if key in button:
            return f"{key}={button[key]!r}"
    return "?"


@dataclass
class RecordedCall:
    """One request the bot made to the emulator.

    ``params`` are decoded (JSON values parsed), ``files`` maps multipart part names to
    ``(filename, content)``, ``at`` is the arrival time (``time.monotonic()``) and ``status``
    the HTTP status of the answer.  Calls are recorded when answered.
    """

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    response: dict[str, Any] = field(default_factory=dict)
    at: float = 0.0
    status: int = 200

    @property
    def ok(self) -> bool:
        """True if the call succeeded."""
        return bool(self.response.get("ok"))

    @property
    def result(self) -> Any:
        """The ``result`` of a successful call (None otherwise)."""
        return self.response.get("result")


@dataclass
class StoredFile:
    """A file known to the emulator (uploaded by the bot or sent by a user)."""

    file_id: str
    file_unique_id: str
    filename: str
    content: bytes
    mime_type: str | None
    file_path: str

    def to_file_api(self) -> dict[str, Any]:
        """The ``File`` object (for getFile)."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "file_path": self.file_path,
        }

    def to_document_api(self) -> dict[str, Any]:
        """The ``Document`` object."""
        data: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.filename,
            "file_size": len(self.content),
        }
        if self.mime_type:
            data["mime_type"] = self.mime_type
        return data
