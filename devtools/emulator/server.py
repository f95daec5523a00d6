"""A local Telegram Bot API server for end-to-end tests and the terminal console.

:class:`BotAPIEmulator` is an aiohttp server on ``127.0.0.1`` that speaks the wire format of
``api.telegram.org`` as aiogram's ``AiohttpSession`` uses it.  Tests inject user actions
(:meth:`~BotAPIEmulator.send_message`, :meth:`~BotAPIEmulator.press_button`, ...) which the bot
receives through ``getUpdates`` long polling, and inspect what the bot did
(:meth:`~BotAPIEmulator.chat`, :meth:`~BotAPIEmulator.wait_for_message`,
:attr:`~BotAPIEmulator.calls`).  Every call is validated against the Bot API specification
(when a :class:`~devtools.emulator.spec.SpecValidator` is given) and the documented limits; a broken
call is answered ``400 Bad Request`` like Telegram would and recorded in
:attr:`~BotAPIEmulator.violations`.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import mimetypes
import re
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from aiohttp import web

from devtools.emulator.formatting import entities_to_html, parse_formatted, valid_text
from devtools.emulator.limits import check_limits
from devtools.emulator.models import (
    ApiViolation,
    BotMessage,
    EmulatorTimeout,
    EmuUser,
    MessageKind,
    RecordedCall,
    StoredFile,
)
from devtools.emulator.ratelimit import RateLimits
from devtools.emulator.spec import SpecValidator, decode_wire_value

__all__ = ["BotAPIEmulator", "CallHook", "FailureKind", "MessageListener"]

FailureKind = Literal["blocked", "flood"]
#: ``listener(event, message)`` with event ``"sent"``, ``"edited"`` or ``"deleted"``.
MessageListener = Callable[[str, BotMessage], None]
#: ``hook(call)``: a call has been handled and is about to be answered (see :meth:`on_call`).
CallHook = Callable[[RecordedCall], None]

_Handler = Callable[["_Call"], Awaitable[Any]]

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@\w+)?")
_UPLOAD_PARAMS = frozenset(
    {
        "document",
        "photo",
        "thumbnail",
        "certificate",
        "audio",
        "video",
        "animation",
        "voice",
        "video_note",
        "sticker",
    }
)
#: Parameters whose wire value is raw text, used to decode calls when no spec is loaded.
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "file_id",
        "url",
        "language_code",
        "description",
        "short_description",
        "name",
        "inline_message_id",
        "action",
        "business_connection_id",
        "message_effect_id",
        "secret_token",
        "ip_address",
        "emoji",
        "query",
        *_UPLOAD_PARAMS,
    }
)
_MULTIPART_LIMIT = 60 * 1024 * 1024
_FILE_ID_PREFIX = "BQACAgIAAxkBAAI"
_FILE_ID_RE = re.compile(_FILE_ID_PREFIX + r"([0-9a-f]{64})")
_FILE_PATH_RE = re.compile(r"[a-z_]+/([0-9a-f]{64})(?:\.[A-Za-z0-9]{1,10})?")
_SUFFIX_RE = re.compile(r"\.[A-Za-z0-9]{1,10}")
_DEFAULT_QUIET = 0.15
#: Telegram's default for setWebhook's max_connections
_WEBHOOK_MAX_CONNECTIONS = 40


class _ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            data["parameters"] = self.parameters
        return data


@dataclass
class _Call:
    """A decoded request handed to a method handler."""

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]]
    file_types: dict[str, str]


def _as_int(value: Any) -> int:
    """An id parameter as Telegram reads it (a number or its string); -1 if neither."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


@dataclass
class _Chat:
    """State of one private chat."""

    chat_id: int
    user: EmuUser | None
    last_message_id: int = 0
    messages: dict[int, BotMessage] = field(default_factory=dict)
    user_message_ids: set[int] = field(default_factory=set)
    #: what the user sent, by message id (`copyMessage` copies it)
    user_messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    sent_log: list[BotMessage] = field(default_factory=list)
    cursor: int = 0

    def next_message_id(self) -> int:
        self.last_message_id += 1
        return self.last_message_id


class BotAPIEmulator:
    """Telegram Bot API emulator bound to ``127.0.0.1`` (see module docs)."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN-abcdef",
        spec: SpecValidator | None = None,
        *,
        bot_username: str = "metodbot_test_bot",
        bot_id: int | None = None,
        first_name: str = "Metodbot",
        host: str = "127.0.0.1",
        port: int = 0,
        strict_chats: bool = True,
        file_store: Path | None = None,
        latency: float = 0.0,
        rate_limits: RateLimits | None = None,
    ) -> None:
        """Create an emulator; call :meth:`start` (or use ``async with``) to serve.

        ``strict_chats``: calls addressed to a chat whose user never appeared (see
        :meth:`add_user`) are answered ``400 Bad Request: chat not found``, like Telegram.

        ``file_store``: a directory where every file (uploaded by the bot or sent by a user)
        is kept, so its ``file_id`` stays valid in the next emulator on the same directory, as
        file ids stored in the bot's database do with Telegram.  File ids are derived from the
        file itself (a SHA-256), never from a counter: an id from another run either names the
        very same file or is refused (``400 wrong file identifier``), never another file.

        ``latency``: seconds every call except ``getUpdates`` takes before it is handled, like
        the round trip to Telegram; :attr:`latency` can be changed while the emulator runs.

        ``rate_limits``: enforce Telegram's flood limits (30 messages/s overall, 1000/s with
        ``allow_paid_broadcast``, 1/s per chat; see :mod:`devtools.emulator.ratelimit`),
        answering ``429 retry after N`` beyond them; off by default. Its ``refused`` counts
        the 429s sent.
        """
        self.token = token
        self.spec = spec
        self.bot_username = bot_username
        prefix = token.split(":", 1)[0]
        self.bot_id = bot_id if bot_id is not None else (int(prefix) if prefix.isdigit() else 1)
        self.first_name = first_name
        self.host = host
        self.port = port
        self.strict_chats = strict_chats
        self.latency = latency
        self.rate_limits = rate_limits

        self.calls: list[RecordedCall] = []
        self.violations: list[str] = []
        self.commands: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.descriptions: dict[str | None, str] = {}
        self.short_descriptions: dict[str | None, str] = {}
        self.names: dict[str | None, str] = {}
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_max_connections = _WEBHOOK_MAX_CONNECTIONS
        #: (update id, HTTP status or the connection error's name) of every webhook delivery
        #: attempt, in the order the answers came back
        self.webhook_deliveries: list[tuple[int, int | str]] = []
        #: how long a chat's queue waits after a failed delivery before it is tried again
        self.webhook_retry_seconds = 0.2
        #: how long a delivery may take before it counts as failed (Telegram: about a minute)
        self.webhook_timeout = 60.0
        self.updates: list[dict[str, Any]] = []  # every update ever injected
        self.dropped_updates: list[dict[str, Any]] = []  # filtered out by allowed_updates

        self._users: dict[int, EmuUser] = {}
        self._chats: dict[int, _Chat] = {}
        self._pending: list[dict[str, Any]] = []  # not yet confirmed by getUpdates offset
        self._delivered_upto = 0
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self.file_store = file_store
        self._allowed_updates: list[str] | None = None
        self._callback_queries: dict[str, dict[str, Any]] = {}
        self._answered_queries: set[str] = set()
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        #: chat id -> (kind, retry_after, calls left to fail or None for "until cleared")
        self._failures: dict[int, tuple[FailureKind, int, int | None]] = {}
        self._listeners: list[MessageListener] = []
        self._call_hooks: list[CallHook] = []
        self._poll_generation = 0
        self._inflight = 0
        self._last_activity = time.monotonic()
        self._changed = asyncio.Event()
        self._stopping = False
        self._runner: web.AppRunner | None = None
        self._handlers: dict[str, _Handler] = self._build_handlers()
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_busy: set[tuple[str, int]] = set()  # queues with a delivery in flight
        self._webhook_retry_at: dict[tuple[str, int], float] = {}

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (use ``TelegramAPIServer.from_base(emu.base_url)``)."""
        if self._runner is None:
            raise RuntimeError("the emulator is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def bot_user(self) -> dict[str, Any]:
        """The bot's ``User`` object."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.bot_username,
        }

    async def start(self) -> None:
        """Bind the server (port 0 picks a free port)."""
        if self._runner is not None:
            return
        self._stopping = False
        app = web.Application(client_max_size=_MULTIPART_LIMIT)
        app.router.add_route("*", "/bot{token}/test/{method}", self._handle_api)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        address = runner.addresses[0]
        self.port = int(address[1])

    async def stop(self) -> None:
        """Answer pending long polls and shut the server down."""
        if self._runner is None:
            return
        self._stopping = True
        self._notify()
        await self._stop_webhook_delivery()
        runner, self._runner = self._runner, None
        await asyncio.sleep(0)  # let woken long polls answer before connections close
        await runner.cleanup()

    async def __aenter__(self) -> BotAPIEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ inspection
    def chat(self, chat_id: int) -> list[BotMessage]:
        """Bot messages currently in the chat (edits applied, deleted removed), oldest first."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return []
        return [chat.messages[mid] for mid in sorted(chat.messages)]

    def last_message(self, chat_id: int) -> BotMessage | None:
        """The newest bot message still in the chat."""
        messages = self.chat(chat_id)
        return messages[-1] if messages else None

    def calls_of(self, method: str) -> list[RecordedCall]:
        """Recorded calls of one method (case-insensitive)."""
        name = method.lower()
        return [call for call in self.calls if call.method.lower() == name]

    def assert_no_violations(self) -> None:
        """Raise :class:`ApiViolation` (an ``AssertionError``) listing every violation."""
        if self.violations:
            raise ApiViolation(self.violations)

    def add_user(self, user: EmuUser) -> None:
        """Make the private chat with ``user`` known without sending anything."""
        self._ensure_chat(user)

    def user(self, user_id: int) -> EmuUser | None:
        """A known user by id."""
        return self._users.get(user_id)

    def file(self, file_id: str) -> StoredFile | None:
        """A stored file by ``file_id`` (also one kept in :attr:`file_store` by an earlier run)."""
        stored = self._files.get(file_id)
        if stored is None and (match := _FILE_ID_RE.fullmatch(file_id)):
            stored = self._load_file(match.group(1))
        return stored

    def fail_chat(
        self,
        chat_id: int,
        kind: FailureKind | None = "blocked",
        retry_after: int = 3,
        *,
        times: int | None = None,
    ) -> None:
        """Make send*/edit*/copy* calls to the chat fail (403 blocked or 429 flood); ``None`` clears.

        ``times``: only the next ``times`` calls fail, later ones succeed (a flood wait that
        passes); ``None`` keeps failing until cleared.
        """
        if kind is None:
            self._failures.pop(chat_id, None)
        elif kind in ("blocked", "flood"):
            if times is not None and times < 1:
                raise ValueError("times must be at least 1 (or None)")
            self._failures[chat_id] = (kind, retry_after, times)
        else:
            raise ValueError(f"unknown failure kind {kind!r}")

    def add_listener(self, listener: MessageListener) -> None:
        """Call ``listener(event, message)`` when the bot sends, edits or deletes a message."""
        self._listeners.append(listener)

    def on_call(self, hook: CallHook) -> Callable[[], None]:
        """Call ``hook(call)`` for every request (``getUpdates`` too) once it has been handled
        and recorded in :attr:`calls`, BEFORE the answer goes back to the bot.

        A ``sendMessage`` has then reached the chat while the bot has not yet learnt so:
        killing the bot process inside the hook is a crash between Telegram accepting a
        message and the bot recording it.  The hook runs in the emulator's event loop and
        must not block for long; an exception in it is recorded in :attr:`violations`.
        Returns a function that removes the hook.
        """
        self._call_hooks.append(hook)

        def remove() -> None:
            if hook in self._call_hooks:
                self._call_hooks.remove(hook)

        return remove

    # ------------------------------------------------------------------ counting deliveries
    @property
    def poll_count(self) -> int:
        """How many ``getUpdates`` requests have arrived (counted on arrival, not answer)."""
        return self._poll_generation

    def sent_to(self, chat_id: int, contains: str | None = None) -> list[BotMessage]:
        """Every message the bot sent to the chat, in order, including ones deleted or edited
        since; with ``contains``, only those whose plain text or caption holds that text."""
        chat = self._chats.get(chat_id)
        messages = list(chat.sent_log) if chat is not None else []
        if contains is not None:
            messages = [m for m in messages if contains in m.plain_text]
        return messages

    def count_sent(self, chat_id: int, contains: str | None = None) -> int:
        """How many messages the bot delivered to the chat (see :meth:`sent_to`)."""
        return len(self.sent_to(chat_id, contains))

    def calls_to(self, chat_id: int, method: str | None = None) -> list[RecordedCall]:
        """Every answered call addressed to the chat (``chat_id`` param), failed ones too;
        with ``method``, only that method (case-insensitive)."""
        name = method.lower() if method is not None else None
        return [
            call
            for call in self.calls
            if (name is None or call.method.lower() == name) and _chat_id_of(call.params) == chat_id
        ]

    @staticmethod
    def scope_key(scope: Mapping[str, Any] | None) -> str:
        """Canonical JSON of a command scope, as used in :attr:`commands` keys."""
        return json.dumps(
            dict(scope) if scope else {"type": "default"}, sort_keys=True, separators=(",", ":")
        )

    def commands_for(
        self, scope: Mapping[str, Any] | None = None, language_code: str | None = None
    ) -> list[dict[str, Any]] | None:
        """Commands set for a scope/language (None if never set)."""
        return self.commands.get((self.scope_key(scope), language_code or None))

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot."""
        return list(self._pending)

    # ------------------------------------------------------------------ injecting updates
    def send_message(self, user: EmuUser, text: str, *, html: bool = False) -> dict[str, Any]:
        """The user sends a text message; a leading ``/command`` gets a bot_command entity.
        With ``html``, `text` is Telegram HTML and arrives as plain text with its entities
        (bold, links …), as a client sends formatted text."""
        chat = self._ensure_chat(user)
        message = self._user_message(chat, user)
        if html:
            parsed = parse_formatted(text, "HTML")
            message["text"] = parsed.text
            if parsed.entities:
                message["entities"] = parsed.entities
        else:
            message["text"] = text
            match = _COMMAND_RE.match(text)
            if match:
                length = len(match.group(0).encode("utf-16-le")) // 2
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        chat.user_messages[message["message_id"]] = message
        return self._queue_update("message", message)

    def send_photo(
        self, user: EmuUser, content: bytes, caption: str | None = None
    ) -> dict[str, Any]:
        """The user sends a photo (stored, so the bot can copy or download it)."""
        chat = self._ensure_chat(user)
        stored = self._store_file("photo.png", content, "image/png", "photos")
        message = self._user_message(chat, user)
        width, height = _image_size(content)
        message["photo"] = [
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": width,
                "height": height,
                "file_size": len(content),
            }
        ]
        if caption is not None:
            message["caption"] = caption
        chat.user_messages[message["message_id"]] = message
        return self._queue_update("message", message)

    def send_document(
        self,
        user: EmuUser,
        filename: str,
        content: bytes,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> dict[str, Any]:
        """The user sends a file; it is stored so getFile and the download work."""
        chat = self._ensure_chat(user)
        stored = self._store_file(
            filename, content, mime_type or mimetypes.guess_type(filename)[0], "documents"
        )
        message = self._user_message(chat, user)
        message["document"] = stored.to_document_api()
        if caption is not None:
            message["caption"] = caption
        chat.user_messages[message["message_id"]] = message
        return self._queue_update("message", message)

    def press_button(self, user: EmuUser, message_id: int, callback_data: str) -> dict[str, Any]:
        """The user presses an inline button of a bot message (it must have been shown)."""
        message = self._bot_message(user, message_id, "press_button")
        if not any(b.get("callback_data") == callback_data for b in message.all_inline_buttons):
            raise AssertionError(
                f"press_button: message #{message_id} has no inline button with callback_data "
                f"{callback_data!r}\n{self.dump_chat(user.id)}"
            )
        return self._callback(user, message, callback_data)

    def forge_callback(self, user: EmuUser, message_id: int, callback_data: str) -> dict[str, Any]:
        """A callback with data the bot never put on that message: what a tampered client
        sends. Security tests use it to check that the bot re-checks everything."""
        return self._callback(
            user, self._bot_message(user, message_id, "forge_callback"), callback_data
        )

    def _bot_message(self, user: EmuUser, message_id: int, caller: str) -> BotMessage:
        chat = self._chats.get(user.id)
        message = chat.messages.get(message_id) if chat else None
        if chat is None or message is None:
            raise AssertionError(
                f"{caller}: no bot message #{message_id} in chat {user.id}\n{self.dump_chat(user.id)}"
            )
        return message

    def _callback(self, user: EmuUser, message: BotMessage, callback_data: str) -> dict[str, Any]:
        self._ensure_chat(user)
        query_id = str(4_000_000_000_000_000 + next(self._query_ids))
        query = {
            "id": query_id,
            "from": user.to_api(),
            "message": self._message_api(message),
            "chat_instance": str(-(10**18) - user.id),
            "data": callback_data,
        }
        self._callback_queries[query_id] = query
        return self._queue_update("callback_query", query)

    def press_button_by_text(self, user: EmuUser, text: str) -> dict[str, Any]:
        """Press the button with this text (exact, else substring) in the newest bot message having it."""
        newest_first = list(reversed(self.chat(user.id)))
        for exact in (True, False):
            for message in newest_first:
                for button in message.all_inline_buttons:
                    label = str(button.get("text", ""))
                    if label == text if exact else text in label:
                        data = button.get("callback_data")
                        if not isinstance(data, str):
                            raise AssertionError(
                                f"press_button_by_text: button {label!r} of message #{message.message_id} "
                                f"has no callback_data: {button}"
                            )
                        return self.press_button(user, message.message_id, data)
        raise AssertionError(
            f"press_button_by_text: no inline button {text!r}\n{self.dump_chat(user.id)}"
        )

    # ------------------------------------------------------------------ waiting
    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Callable[[BotMessage], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the public API
    ) -> BotMessage:
        """The next new bot message in the chat not consumed by an earlier call.

        Messages not matching ``predicate`` are consumed and skipped.  The returned object is
        live: later edits are applied to it.  Raises :class:`EmulatorTimeout` (an
        ``AssertionError`` and ``asyncio.TimeoutError``) with a dump of the chat.
        """
        deadline = time.monotonic() + timeout
        skipped: list[BotMessage] = []
        while True:
            chat = self._chats.get(chat_id)
            while chat is not None and chat.cursor < len(chat.sent_log):
                message = chat.sent_log[chat.cursor]
                chat.cursor += 1
                if predicate is None or predicate(message):
                    return message
                skipped.append(message)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                note = f" (skipped {len(skipped)} not matching the predicate)" if skipped else ""
                raise EmulatorTimeout(
                    f"no new bot message in chat {chat_id} within {timeout}s{note}\n"
                    f"{self.dump_chat(chat_id, skipped=skipped)}"
                )
            await self._wait_change(remaining)

    async def wait_for_callback_answer(
        self,
        callback_query_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the public API
    ) -> RecordedCall:
        """The answerCallbackQuery call for this query id."""
        deadline = time.monotonic() + timeout
        while True:
            for call in self.calls_of("answerCallbackQuery"):
                if str(call.params.get("callback_query_id")) == str(callback_query_id):
                    return call
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise EmulatorTimeout(
                    f"callback query {callback_query_id} was not answered within {timeout}s\n{self.dump_calls()}"
                )
            await self._wait_change(remaining)

    async def wait_idle(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the public API
        quiet: float = _DEFAULT_QUIET,
    ) -> None:
        """Wait until every queued update was fetched and no call arrived for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            undelivered = [u for u in self._pending if u["update_id"] > self._delivered_upto]
            busy = bool(undelivered) or self._inflight > 0
            silent_for = now - self._last_activity
            if not busy and silent_for >= quiet:
                return
            remaining = deadline - now
            if remaining <= 0:
                state = (
                    f"{len(undelivered)} update(s) not fetched, {self._inflight} call(s) in flight"
                )
                raise EmulatorTimeout(
                    f"the bot did not become idle within {timeout}s: {state}\n{self.dump_calls()}"
                )
            step = remaining if busy else min(remaining, quiet - silent_for)
            await self._wait_change(max(step, 0.005))

    # ------------------------------------------------------------------ dumps
    def dump_chat(self, chat_id: int, skipped: list[BotMessage] | None = None) -> str:
        """Human-readable state of a chat, for assertion messages."""
        lines = [f"--- chat {chat_id}: {len(self.chat(chat_id))} bot message(s)"]
        lines.extend(message.describe() for message in self.chat(chat_id))
        if skipped:
            lines.append("--- skipped by the predicate:")
            lines.extend(message.describe() for message in skipped)
        lines.append(self.dump_calls())
        return "\n".join(lines)

    def dump_calls(self, last: int = 12) -> str:
        """The last recorded calls and the violations, for assertion messages."""
        lines = [f"--- last {min(last, len(self.calls))} of {len(self.calls)} call(s):"]
        for call in self.calls[-last:]:
            outcome = "ok" if call.ok else f"{call.status} {call.response.get('description')}"
            params = {k: v for k, v in call.params.items() if k != "reply_markup"}
            lines.append(
                f"  {call.method} {json.dumps(params, ensure_ascii=False)[:200]} -> {outcome}"
            )
        if self.violations:
            lines.append("--- violations:")
            lines.extend(f"  {item}" for item in self.violations)
        return "\n".join(lines)

    # ------------------------------------------------------------------ internals: state
    def _notify(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def _wait_change(self, seconds: float) -> None:
        event = self._changed
        try:
            async with asyncio.timeout(seconds):
                await event.wait()
        except TimeoutError:
            pass

    def _ensure_chat(self, user: EmuUser) -> _Chat:
        self._users[user.id] = user
        chat = self._chats.get(user.id)
        if chat is None:
            chat = self._chats[user.id] = _Chat(user.id, user)
        else:
            chat.user = user
        return chat

    def _user_message(self, chat: _Chat, user: EmuUser) -> dict[str, Any]:
        message_id = chat.next_message_id()
        chat.user_message_ids.add(message_id)
        return {
            "message_id": message_id,
            "from": user.to_api(),
            "chat": user.chat_api(),
            "date": int(time.time()),
        }

    def _queue_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue an update; its texts are made valid UTF-8 first (see :func:`valid_text`), so
        one bad string can never make ``getUpdates`` fail over and over."""
        update = {"update_id": next(self._update_ids), kind: _valid_strings(payload)}
        self.updates.append(update)
        self._pending.append(update)
        self._last_activity = time.monotonic()
        self._notify()
        return update

    def _store_file(
        self, filename: str, content: bytes, mime_type: str | None, folder: str
    ) -> StoredFile:
        """Keep a file under an id derived from it (name, type, folder and content)."""
        head = json.dumps([folder, filename, mime_type], ensure_ascii=True).encode()
        digest = hashlib.sha256(head + b"\n" + content).hexdigest()
        known = self.file(_FILE_ID_PREFIX + digest)
        if known is not None:
            return known
        suffix = "." + filename.rsplit(".", 1)[1] if "." in filename else ""
        if not _SUFFIX_RE.fullmatch(suffix):
            suffix = mimetypes.guess_extension(mime_type or "") or ""
        stored = StoredFile(
            file_id=_FILE_ID_PREFIX + digest,
            file_unique_id="AgAD" + hashlib.sha256(content).hexdigest()[:24],
            filename=filename,
            content=content,
            mime_type=mime_type,
            file_path=f"{folder}/{digest}{suffix}",
        )
        self._remember(stored)
        if self.file_store is not None:
            self._save_file(digest, stored)
        return stored

    def _remember(self, stored: StoredFile) -> None:
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored

    def _save_file(self, digest: str, stored: StoredFile) -> None:
        assert self.file_store is not None
        self.file_store.mkdir(parents=True, exist_ok=True)
        meta = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "filename": stored.filename,
            "mime_type": stored.mime_type,
            "file_path": stored.file_path,
        }
        # content first: a description without its content is never left behind
        for name, data in (
            (f"{digest}.bin", stored.content),
            (f"{digest}.json", json.dumps(meta).encode()),
        ):
            partial = self.file_store / f"{name}.part"
            partial.write_bytes(data)
            partial.replace(self.file_store / name)

    def _load_file(self, digest: str) -> StoredFile | None:
        """A file kept in :attr:`file_store` by this or an earlier emulator."""
        if self.file_store is None:
            return None
        try:
            meta = json.loads((self.file_store / f"{digest}.json").read_text("utf-8"))
            content = (self.file_store / f"{digest}.bin").read_bytes()
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("file_id") != _FILE_ID_PREFIX + digest:
            return None
        stored = StoredFile(
            file_id=str(meta["file_id"]),
            file_unique_id=str(meta.get("file_unique_id", "")),
            filename=str(meta.get("filename", "file")),
            content=content,
            mime_type=meta.get("mime_type") if isinstance(meta.get("mime_type"), str) else None,
            file_path=str(meta.get("file_path", "")),
        )
        self._remember(stored)
        return stored

    def _file_by_path(self, path: str) -> StoredFile | None:
        stored = self._files_by_path.get(path)
        if stored is None and (match := _FILE_PATH_RE.fullmatch(path)):
            stored = self._load_file(match.group(1))
            if stored is not None and stored.file_path != path:
                stored = None
        return stored

    def _emit(self, event: str, message: BotMessage) -> None:
        for listener in list(self._listeners):
            listener(event, message)

    def _chat_for(self, chat_id: Any) -> _Chat:
        if isinstance(chat_id, str):
            if re.fullmatch(r"-?\d+", chat_id):
                chat_id = int(chat_id)
            else:
                for user in self._users.values():
                    if user.username and chat_id.lstrip("@").lower() == user.username.lower():
                        chat_id = user.id
                        break
        if isinstance(chat_id, int) and not isinstance(chat_id, bool):
            chat = self._chats.get(chat_id)
            if chat is not None:
                return chat
            if not self.strict_chats:
                chat = self._chats[chat_id] = _Chat(chat_id, None)
                return chat
        raise _ApiError(400, "Bad Request: chat not found")

    def _chat_api(self, chat: _Chat) -> dict[str, Any]:
        if chat.user is not None:
            return chat.user.chat_api()
        return {"id": chat.chat_id, "type": "private", "first_name": f"User {chat.chat_id}"}

    def _message_api(self, message: BotMessage) -> dict[str, Any]:
        """The ``Message`` object Telegram would return for a bot message."""
        chat = self._chats[message.chat_id]
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "from": self.bot_user,
            "chat": self._chat_api(chat),
            "date": message.date,
        }
        if message.edited:
            data["edit_date"] = int(time.time())
        if message.text is not None:
            parsed = parse_formatted(message.text, message.parse_mode)
            data["text"] = parsed.text
            if parsed.entities:
                data["entities"] = parsed.entities
        if message.caption is not None:
            parsed = parse_formatted(message.caption, message.parse_mode)
            data["caption"] = parsed.text
            if parsed.entities:
                data["caption_entities"] = parsed.entities
        stored = self.file(message.file_id or "")
        if message.kind == "document" and stored is not None:
            data["document"] = stored.to_document_api()
        if message.kind == "photo" and stored is not None:
            width, height = _image_size(stored.content)
            data["photo"] = [
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": len(stored.content),
                    "width": width,
                    "height": height,
                }
            ]
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            data["reply_markup"] = message.reply_markup
        return data

    def _new_bot_message(
        self, chat: _Chat, kind: MessageKind, params: Mapping[str, Any]
    ) -> BotMessage:
        self._check_reply_target(chat, params.get("reply_parameters"))
        markup = params.get("reply_markup")
        message = BotMessage(
            message_id=chat.next_message_id(),
            chat_id=chat.chat_id,
            parse_mode=params.get("parse_mode"),
            reply_markup=dict(markup) if isinstance(markup, Mapping) else None,
            kind=kind,
            date=int(time.time()),
        )
        chat.messages[message.message_id] = message
        chat.sent_log.append(message)
        return message

    def _check_reply_target(self, chat: _Chat, reply: Any) -> None:
        """Telegram refuses to reply to a message that does not exist (unless told not to)."""
        if not isinstance(reply, Mapping) or reply.get("allow_sending_without_reply"):
            return
        target_chat = reply.get("chat_id")
        if target_chat is not None and self._chat_for(target_chat) is not chat:
            return  # a reply into another chat: not tracked
        message_id = reply.get("message_id")
        if message_id not in chat.messages and message_id not in chat.user_message_ids:
            raise _ApiError(400, "Bad Request: message to be replied not found")

    def _find_bot_message(self, params: Mapping[str, Any], missing: str) -> BotMessage:
        if "chat_id" not in params or "message_id" not in params:
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        chat = self._chat_for(params["chat_id"])
        message = chat.messages.get(params["message_id"])
        if message is None:
            if params["message_id"] in chat.user_message_ids:
                raise _ApiError(400, "Bad Request: message can't be edited")
            raise _ApiError(400, missing)
        return message

    # ------------------------------------------------------------------ internals: HTTP
    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        arrived = time.monotonic()
        is_poll = method.lower() == "getupdates"
        if not is_poll:
            self._inflight += 1
            self._last_activity = arrived
        call = RecordedCall(method=method, params={}, at=arrived)
        try:
            if not is_poll and self.latency > 0:
                await asyncio.sleep(self.latency)
            call.params, call.files, file_types = await self._read_params(request, method)
            response, status = await self._dispatch(
                request.match_info["token"], method, call, file_types
            )
            body = _dumps(response).encode("utf-8")
        except _ApiError as error:
            response, status = error.payload(), error.code
            body = _dumps(response).encode("utf-8", "replace")
        except Exception as error:  # an emulator bug must surface in the test, not hang it
            self.violations.append(f"{method}: emulator internal error: {error!r}")
            response, status = _ApiError(500, f"Internal Server Error: {error!r}").payload(), 500
            body = _dumps(response).encode("utf-8", "replace")
        finally:
            if not is_poll:
                self._inflight -= 1
                self._last_activity = time.monotonic()
        call.response = response
        call.status = status
        self.calls.append(call)
        self._notify()
        for hook in list(self._call_hooks):
            try:
                hook(call)
            except Exception as error:  # a broken hook must surface in the test
                self.violations.append(f"{method}: on_call hook failed: {error!r}")
        return web.Response(
            body=body, status=status, content_type="application/json", charset="utf-8"
        )

    async def _dispatch(
        self, token: str, method: str, call: RecordedCall, file_types: dict[str, str]
    ) -> tuple[dict[str, Any], int]:
        if token != self.token:
            return {"ok": False, "error_code": 401, "description": "Unauthorized"}, 401
        name = method.lower()
        known = self.spec.has_method(method) if self.spec is not None else name in self._handlers
        if not known:
            self.violations.append(f"{method}: unknown method")
            return {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }, 404
        problems: list[str] = []
        if self.spec is not None:
            problems.extend(self.spec.validate_call(method, call.params))
        problems.extend(check_limits(method, call.params))
        problems.extend(self._check_attachments(method, call))
        problems = list(dict.fromkeys(problems))
        if problems:
            self.violations.extend(problems)
            error = _ApiError(400, "Bad Request: " + "; ".join(problems))
            return error.payload(), 400
        if self.rate_limits is not None:
            retry = self.rate_limits.check(method, _chat_id_of(call.params), call.params)
            if retry is not None:
                raise _ApiError(
                    429, f"Too Many Requests: retry after {retry}", {"retry_after": retry}
                )
        self._check_failure(name, call.params)
        handler = self._handlers.get(name, self._generic)
        result = await handler(_Call(method, call.params, call.files, file_types))
        return {"ok": True, "result": result}, 200

    async def _read_params(
        self, request: web.Request, method: str
    ) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]], dict[str, str]]:
        raw: dict[str, str] = {}
        files: dict[str, tuple[str, bytes]] = {}
        file_types: dict[str, str] = {}
        params: dict[str, Any] = {}
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise _ApiError(400, "Bad Request: the request body must be a JSON object")
            params.update(body)
        else:
            raw.update(request.query)
            if request.method == "POST" and request.can_read_body:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        files[key] = (value.filename, value.file.read())
                        file_types[key] = value.content_type
                    elif isinstance(value, (bytes, bytearray)):
                        raw[key] = bytes(value).decode("utf-8", "replace")
                    else:
                        raw[key] = value
        for key, value in raw.items():
            params[key] = decode_wire_value(value, self._param_type(method, key))
        referenced = set(_attach_refs(params))
        for key in files:
            if key not in referenced and key not in params and self._is_upload_param(method, key):
                params[key] = f"attach://{key}"
        return params, files, file_types

    def _param_type(self, method: str, param: str) -> str | None:
        if self.spec is not None:
            return self.spec.param_type(method, param)
        return "String" if param in _STRING_PARAMS else None

    def _is_upload_param(self, method: str, param: str) -> bool:
        if self.spec is not None:
            return "InputFile" in (self.spec.param_type(method, param) or "")
        return param in _UPLOAD_PARAMS

    def _check_attachments(self, method: str, call: RecordedCall) -> list[str]:
        return [
            f"{method}: attach://{name} refers to a file part that was not sent"
            for name in _attach_refs(call.params)
            if name not in call.files
        ]

    def _check_failure(self, name: str, params: Mapping[str, Any]) -> None:
        if not name.startswith(("send", "edit", "copy")):
            return
        chat_id = _chat_id_of(params)
        if chat_id is None:
            return
        failure = self._failures.get(chat_id)
        if failure is None:
            return
        kind, retry_after, left = failure
        if left is not None:
            if left <= 1:
                del self._failures[chat_id]
            else:
                self._failures[chat_id] = (kind, retry_after, left - 1)
        if kind == "blocked":
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        raise _ApiError(
            429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
        )

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        stored = self._file_by_path(request.match_info["path"])
        if stored is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(
            body=stored.content, content_type=stored.mime_type or "application/octet-stream"
        )

    # ------------------------------------------------------------------ method handlers
    def _build_handlers(self) -> dict[str, _Handler]:
        handlers: dict[str, _Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "logOut": self._generic,
            "close": self._generic,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "copyMessage": self._copy_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "sendChatAction": self._send_chat_action,
            "getChat": self._get_chat,
            "setMyDescription": self._set_my_description,
            "getMyDescription": self._get_my_description,
            "setMyShortDescription": self._set_my_short_description,
            "getMyShortDescription": self._get_my_short_description,
            "setMyName": self._set_my_name,
            "getMyName": self._get_my_name,
        }
        return {name.lower(): handler for name, handler in handlers.items()}

    async def _generic(self, call: _Call) -> Any:
        return True

    async def _get_me(self, call: _Call) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, call: _Call) -> Any:
        if self.webhook_url:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            )
        params = call.params
        offset = params.get("offset")
        if isinstance(offset, int) and offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif isinstance(offset, int) and offset < 0:
            self._pending = self._pending[offset:]
        if "allowed_updates" in params and isinstance(params["allowed_updates"], list):
            self._allowed_updates = [str(kind) for kind in params["allowed_updates"]] or None
        limit = params.get("limit", 100)
        limit = limit if isinstance(limit, int) and limit > 0 else 100
        timeout = params.get("timeout", 0)
        timeout = timeout if isinstance(timeout, (int, float)) and timeout > 0 else 0
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older long poll still waiting is terminated with 409
        deadline = time.monotonic() + timeout
        while True:
            if self._stopping:
                return []
            if generation != self._poll_generation:
                raise _ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
            self._drop_disallowed()
            batch = self._pending[:limit]
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0:
                break
            await self._wait_change(remaining)
        if batch:
            self._delivered_upto = max(self._delivered_upto, batch[-1]["update_id"])
            self._last_activity = time.monotonic()
        return self._deliverable(batch)

    def _deliverable(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Drop (and report) updates that cannot be sent: one bad update must never make
        every later ``getUpdates`` fail, which would stop the bot for good."""
        good: list[dict[str, Any]] = []
        for update in batch:
            try:
                _dumps(update).encode("utf-8")
            except (TypeError, ValueError) as error:
                self._pending.remove(update)
                self.dropped_updates.append(update)
                self.violations.append(
                    f"getUpdates: update {update.get('update_id')} cannot be encoded and was "
                    f"dropped: {error!r}"
                )
            else:
                good.append(update)
        return good

    def _drop_disallowed(self) -> None:
        allowed = self._allowed_updates
        if not allowed:
            return
        kept: list[dict[str, Any]] = []
        for update in self._pending:
            if any(key in update for key in allowed):
                kept.append(update)
            else:
                self.dropped_updates.append(update)
        self._pending = kept

    async def _delete_webhook(self, call: _Call) -> Any:
        self.webhook_url = ""
        await self._stop_webhook_delivery()
        if call.params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    async def _set_webhook(self, call: _Call) -> Any:
        self.webhook_url = str(call.params.get("url", ""))
        secret = call.params.get("secret_token")
        self.webhook_secret = str(secret) if secret else None
        connections = call.params.get("max_connections")
        self.webhook_max_connections = (
            int(connections) if isinstance(connections, int) else _WEBHOOK_MAX_CONNECTIONS
        )
        if "allowed_updates" in call.params and isinstance(call.params["allowed_updates"], list):
            self._allowed_updates = [str(kind) for kind in call.params["allowed_updates"]] or None
        if call.params.get("drop_pending_updates"):
            self._pending.clear()
        if self.webhook_url and (self._webhook_task is None or self._webhook_task.done()):
            self._webhook_task = asyncio.create_task(self._webhook_loop(), name="emu-webhook")
        self._notify()
        return True

    # ------------------------------------------------------------------ webhook delivery
    async def _stop_webhook_delivery(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _webhook_loop(self) -> None:
        """Deliver the pending updates to the webhook as Telegram does: POST each as JSON with
        the secret header; up to ``max_connections`` at once, but one chat's (or user's)
        updates one at a time, the next only after the previous was answered 2xx; a failed
        delivery is tried again (after ``webhook_retry_seconds``) before anything later of
        that chat."""
        import aiohttp

        tasks: set[asyncio.Task[None]] = set()
        # a connection per delivery (no keep-alive): each is accepted anew, so deliveries
        # spread over the processes sharing the webhook's port (`bot.workers`)
        connector = aiohttp.TCPConnector(force_close=True, limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            try:
                while self.webhook_url and not self._stopping:
                    self._drop_disallowed()
                    now = time.monotonic()
                    waits: list[float] = []
                    seen: set[tuple[str, int]] = set()
                    for update in list(self._pending):
                        queue = _webhook_queue(update)
                        if queue in seen or queue in self._webhook_busy:
                            seen.add(queue)
                            continue  # the chat's earlier update is not answered yet
                        seen.add(queue)
                        retry_at = self._webhook_retry_at.get(queue, 0.0)
                        if retry_at > now:
                            waits.append(retry_at - now)
                            continue
                        if len(tasks) >= self.webhook_max_connections:
                            break
                        self._webhook_busy.add(queue)
                        task = asyncio.create_task(self._deliver(http, update, queue))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                    await self._wait_change(min(waits, default=1.0))
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                self._webhook_busy.clear()

    async def _deliver(self, http: Any, update: dict[str, Any], queue: tuple[str, int]) -> None:
        import aiohttp

        headers = {"Content-Type": "application/json"}
        if self.webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
        outcome: int | str
        reply: Any = None
        self._inflight += 1
        try:
            async with http.post(
                self.webhook_url,
                data=_dumps(update).encode("utf-8"),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as response:
                outcome = response.status
                body = await response.read()
                if body and response.content_type == "application/json":
                    reply = json.loads(body)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            outcome = type(error).__name__
        finally:
            self._inflight -= 1
        self.webhook_deliveries.append((int(update["update_id"]), outcome))
        if isinstance(outcome, int) and 200 <= outcome < 300:
            self._pending = [u for u in self._pending if u is not update]
            self._webhook_retry_at.pop(queue, None)
            if isinstance(reply, dict) and reply.get("method"):
                await self._webhook_reply(reply)
        else:
            self._webhook_retry_at[queue] = time.monotonic() + self.webhook_retry_seconds
        self._webhook_busy.discard(queue)
        self._last_activity = time.monotonic()
        self._notify()

    async def _webhook_reply(self, reply: dict[str, Any]) -> None:
        """A method call in the answer to a webhook delivery is executed like a request."""
        method = str(reply["method"])
        params = {k: v for k, v in reply.items() if k != "method"}
        call = RecordedCall(method=method, params=params, at=time.monotonic())
        try:
            response, status = await self._dispatch(self.token, method, call, {})
        except _ApiError as error:
            response, status = error.payload(), error.code
        call.response = response
        call.status = status
        self.calls.append(call)

    async def _get_webhook_info(self, call: _Call) -> Any:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    async def _send_message(self, call: _Call) -> Any:
        chat = self._chat_for(call.params.get("chat_id"))
        message = self._new_bot_message(chat, "text", call.params)
        message.text = str(call.params.get("text", ""))
        self._emit("sent", message)
        return self._message_api(message)

    async def _copy_message(self, call: _Call) -> Any:
        """A copy of a message the user sent (text with its formatting, a photo or a document
        with its caption), with the bot's own buttons; Telegram answers with the new id."""
        params = call.params
        target = self._chat_for(params.get("chat_id"))
        source = self._chats.get(_as_int(params.get("from_chat_id")))
        original = source.user_messages.get(_as_int(params.get("message_id"))) if source else None
        if original is None:
            raise _ApiError(400, "Bad Request: message to copy not found")
        if "text" in original:
            message = self._new_bot_message(target, "text", {**params, "parse_mode": "HTML"})
            message.text = entities_to_html(original["text"], original.get("entities") or [])
        else:
            kind: MessageKind = "photo" if "photo" in original else "document"
            file_id = (
                original["photo"][-1]["file_id"]
                if kind == "photo"
                else original["document"]["file_id"]
            )
            stored = self.file(file_id)
            if stored is None:
                raise _ApiError(400, "Bad Request: message to copy not found")
            caption = params.get("caption", original.get("caption"))
            message = self._new_bot_message(target, kind, params)
            message.caption = caption
            message.file_id, message.mime_type = stored.file_id, stored.mime_type
            if kind == "photo":
                message.photo = stored.content
            else:
                message.document = (stored.filename, stored.content)
        self._emit("sent", message)
        return {"message_id": message.message_id}

    def _resolve_upload(self, call: _Call, param: str, folder: str) -> StoredFile:
        value = call.params.get(param)
        if not isinstance(value, str) or not value:
            raise _ApiError(400, f"Bad Request: there is no {param} in the request")
        if value.startswith("attach://"):
            name = value[len("attach://") :]
            filename, content = call.files[name]
            mime = call.file_types.get(name)
            if not mime or mime == "application/octet-stream":
                mime = mimetypes.guess_type(filename)[0] or mime
            return self._store_file(filename or name, content, mime, folder)
        stored = self.file(value)
        if stored is not None:
            return stored
        if value.startswith(("http://", "https://")):
            filename = value.rstrip("/").rsplit("/", 1)[-1] or "file"
            return self._store_file(filename, b"", mimetypes.guess_type(filename)[0], folder)
        raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    async def _send_document(self, call: _Call) -> Any:
        chat = self._chat_for(call.params.get("chat_id"))
        stored = self._resolve_upload(call, "document", "documents")
        message = self._new_bot_message(chat, "document", call.params)
        message.caption = call.params.get("caption")
        message.document = (stored.filename, stored.content)
        message.file_id = stored.file_id
        message.mime_type = stored.mime_type
        self._emit("sent", message)
        return self._message_api(message)

    async def _send_photo(self, call: _Call) -> Any:
        chat = self._chat_for(call.params.get("chat_id"))
        stored = self._resolve_upload(call, "photo", "photos")
        message = self._new_bot_message(chat, "photo", call.params)
        message.caption = call.params.get("caption")
        message.photo = stored.content
        message.file_id = stored.file_id
        message.mime_type = stored.mime_type
        self._emit("sent", message)
        return self._message_api(message)

    def _not_modified(
        self, message: BotMessage, content: str | None, parse_mode: Any, markup: Any
    ) -> bool:
        old_raw = message.text if message.kind == "text" else message.caption
        old = parse_formatted(old_raw or "", message.parse_mode)
        new = parse_formatted(content or "", parse_mode if isinstance(parse_mode, str) else None)
        return (old.text, old.entities) == (new.text, new.entities) and _markup_key(
            message.reply_markup
        ) == _markup_key(markup)

    async def _edit_message_text(self, call: _Call) -> Any:
        params = call.params
        if "inline_message_id" in params:
            return True
        message = self._find_bot_message(params, "Bad Request: message to edit not found")
        if message.kind != "text":
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        text = str(params.get("text", ""))
        markup = params.get("reply_markup")
        if self._not_modified(message, text, params.get("parse_mode"), markup):
            raise _ApiError(400, NOT_MODIFIED)
        message.text = text
        message.parse_mode = params.get("parse_mode")
        message.reply_markup = dict(markup) if isinstance(markup, Mapping) else None
        message.edited = True
        self._emit("edited", message)
        return self._message_api(message)

    async def _edit_message_caption(self, call: _Call) -> Any:
        params = call.params
        if "inline_message_id" in params:
            return True
        message = self._find_bot_message(params, "Bad Request: message to edit not found")
        if message.kind == "text":
            raise _ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption = params.get("caption")
        markup = params.get("reply_markup")
        if self._not_modified(message, caption, params.get("parse_mode"), markup):
            raise _ApiError(400, NOT_MODIFIED)
        message.caption = caption
        message.parse_mode = params.get("parse_mode")
        message.reply_markup = dict(markup) if isinstance(markup, Mapping) else None
        message.edited = True
        self._emit("edited", message)
        return self._message_api(message)

    async def _edit_message_reply_markup(self, call: _Call) -> Any:
        params = call.params
        if "inline_message_id" in params:
            return True
        message = self._find_bot_message(params, "Bad Request: message to edit not found")
        markup = params.get("reply_markup")
        if _markup_key(message.reply_markup) == _markup_key(markup):
            raise _ApiError(400, NOT_MODIFIED)
        message.reply_markup = dict(markup) if isinstance(markup, Mapping) else None
        message.edited = True
        self._emit("edited", message)
        return self._message_api(message)

    def _delete_one(self, chat: _Chat, message_id: Any) -> bool:
        message = chat.messages.pop(message_id, None) if isinstance(message_id, int) else None
        if message is not None:
            message.deleted = True
            self._emit("deleted", message)
            return True
        if message_id in chat.user_message_ids:
            chat.user_message_ids.discard(message_id)
            return True
        return False

    async def _delete_message(self, call: _Call) -> Any:
        chat = self._chat_for(call.params.get("chat_id"))
        if not self._delete_one(chat, call.params.get("message_id")):
            raise _ApiError(400, "Bad Request: message to delete not found")
        return True

    async def _delete_messages(self, call: _Call) -> Any:
        chat = self._chat_for(call.params.get("chat_id"))
        ids = call.params.get("message_ids")
        for message_id in ids if isinstance(ids, list) else []:
            self._delete_one(chat, message_id)
        return True

    async def _answer_callback_query(self, call: _Call) -> Any:
        query_id = str(call.params.get("callback_query_id"))
        if query_id not in self._callback_queries or query_id in self._answered_queries:
            raise _ApiError(400, _QUERY_INVALID)
        self._answered_queries.add(query_id)
        return True

    async def _get_file(self, call: _Call) -> Any:
        stored = self.file(str(call.params.get("file_id")))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        return stored.to_file_api()

    def _commands_key(self, params: Mapping[str, Any]) -> tuple[str, str | None]:
        scope = params.get("scope")
        language = params.get("language_code")
        return self.scope_key(scope if isinstance(scope, Mapping) else None), (
            str(language) if language else None
        )

    async def _set_my_commands(self, call: _Call) -> Any:
        commands = call.params.get("commands")
        key = self._commands_key(call.params)
        if isinstance(commands, list) and commands:
            self.commands[key] = [dict(item) for item in commands if isinstance(item, Mapping)]
        else:
            self.commands.pop(key, None)
        return True

    async def _get_my_commands(self, call: _Call) -> Any:
        return self.commands.get(self._commands_key(call.params), [])

    async def _delete_my_commands(self, call: _Call) -> Any:
        self.commands.pop(self._commands_key(call.params), None)
        return True

    async def _set_chat_menu_button(self, call: _Call) -> Any:
        chat_id = call.params.get("chat_id")
        if chat_id is not None:
            self._chat_for(chat_id)
        button = call.params.get("menu_button")
        key = chat_id if isinstance(chat_id, int) else None
        self.menu_buttons[key] = (
            dict(button) if isinstance(button, Mapping) else {"type": "default"}
        )
        return True

    async def _get_chat_menu_button(self, call: _Call) -> Any:
        chat_id = call.params.get("chat_id")
        key = chat_id if isinstance(chat_id, int) else None
        return self.menu_buttons.get(key) or self.menu_buttons.get(None) or {"type": "commands"}

    async def _send_chat_action(self, call: _Call) -> Any:
        self._chat_for(call.params.get("chat_id"))
        return True

    async def _get_chat(self, call: _Call) -> Any:
        chat = self._chat_for(call.params.get("chat_id"))
        return {
            **self._chat_api(chat),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    def _language(self, call: _Call) -> str | None:
        language = call.params.get("language_code")
        return str(language) if language else None

    async def _set_my_description(self, call: _Call) -> Any:
        self.descriptions[self._language(call)] = str(call.params.get("description", ""))
        return True

    async def _get_my_description(self, call: _Call) -> Any:
        return {"description": self.descriptions.get(self._language(call), "")}

    async def _set_my_short_description(self, call: _Call) -> Any:
        self.short_descriptions[self._language(call)] = str(
            call.params.get("short_description", "")
        )
        return True

    async def _get_my_short_description(self, call: _Call) -> Any:
        return {"short_description": self.short_descriptions.get(self._language(call), "")}

    async def _set_my_name(self, call: _Call) -> Any:
        self.names[self._language(call)] = str(call.params.get("name", ""))
        return True

    async def _get_my_name(self, call: _Call) -> Any:
        return {"name": self.names.get(self._language(call), self.first_name)}


def _webhook_queue(update: Mapping[str, Any]) -> tuple[str, int]:
    """Which of Telegram's per-chat delivery queues an update waits in: its chat, else its
    sender, else its own."""
    for value in update.values():
        if not isinstance(value, Mapping):
            continue
        chat = value.get("chat")
        if chat is None and isinstance(value.get("message"), Mapping):
            chat = value["message"].get("chat")
        if isinstance(chat, Mapping) and isinstance(chat.get("id"), int):
            return ("chat", chat["id"])
        sender = value.get("from") or value.get("user")
        if isinstance(sender, Mapping) and isinstance(sender.get("id"), int):
            return ("user", sender["id"])
    return ("update", int(update.get("update_id", 0)))


def _chat_id_of(params: Mapping[str, Any]) -> int | None:
    """The numeric ``chat_id`` of a call (None when absent or a username)."""
    chat_id = params.get("chat_id")
    if isinstance(chat_id, str) and re.fullmatch(r"-?\d+", chat_id):
        return int(chat_id)
    if isinstance(chat_id, int) and not isinstance(chat_id, bool):
        return chat_id
    return None


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _valid_strings(value: Any) -> Any:
    """``value`` with every string in it passed through :func:`valid_text`."""
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, dict):
        return {valid_text(str(k)): _valid_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_valid_strings(item) for item in value]
    return value


def _attach_refs(value: Any) -> Iterator[str]:
    """Names referenced as ``attach://<name>`` anywhere inside decoded params."""
    if isinstance(value, str):
        if value.startswith("attach://"):
            yield value[len("attach://") :]
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _attach_refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _attach_refs(item)


def _markup_key(markup: Any) -> str | None:
    """Comparable form of an inline keyboard (None when there is none)."""
    if not isinstance(markup, Mapping) or not markup.get("inline_keyboard"):
        return None
    return json.dumps(markup, sort_keys=True)


def _image_size(content: bytes) -> tuple[int, int]:
    """Width and height of a PNG (a fixed guess for other formats)."""
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        return int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")
    return 800, 600
