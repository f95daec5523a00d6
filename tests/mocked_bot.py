"""A recording fake session for dispatcher-level tests (after aiogram's tests/mocked_bot.py).

Every request is checked with the same rules as the emulator: the project's limit checks,
and the official spec when `../shared/botapi/` is present.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile, Message, MessageId

from devtools.emulator import SpecValidator, check_limits

BOT_ID = 123456


@dataclass
class Request:
    method: str
    params: dict[str, Any]
    obj: TelegramMethod[Any]


def _decode(value: str) -> Any:
    """The wire form back to JSON values (plain strings such as a default parse_mode stay)."""
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def wire_form(session: BaseSession, bot: Bot, method: TelegramMethod[Any]) -> dict[str, str]:
    """The request's fields as aiogram's HTTP session sends them (`build_form_data`): each
    value serialised, empty ones left out; an uploaded file's field reads "attach://<part>"
    (the part itself is not a field)."""
    files: dict[str, InputFile] = {}
    form: dict[str, str] = {}
    for key, value in method.model_dump(warnings=False).items():
        prepared = session.prepare_value(value, bot=bot, files=files)
        if prepared:
            form[key] = prepared
    return form


class RecordingSession(BaseSession):
    def __init__(self, spec: SpecValidator | None) -> None:
        super().__init__()
        self.spec = spec
        self.requests: list[Request] = []
        self.violations: list[str] = []
        self._ids = itertools.count(1000)

    async def close(self) -> None:
        pass

    def _params(self, bot: Bot, method: TelegramMethod[Any]) -> dict[str, Any]:
        return {
            key: prepared if isinstance(getattr(method, key), str) else _decode(prepared)
            for key, prepared in wire_form(self, bot, method).items()
        }

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> TelegramType:
        name = method.__api_method__
        params = self._params(bot, method)
        self.requests.append(Request(name, params, method))
        problems = check_limits(name, params)
        if self.spec is not None:
            problems += self.spec.validate_call(name, params)
        self.violations += [f"{name}: {p}" if not p.startswith(name) else p for p in problems]
        return self._result(name, params, method)  # type: ignore[no-any-return]

    def _result(self, name: str, params: dict[str, Any], method: TelegramMethod[Any]) -> Any:
        if name in {"sendMessage", "sendDocument", "sendPhoto", "editMessageText"}:
            chat_id = params.get("chat_id", 1)
            data = {
                "message_id": params.get("message_id") or next(self._ids),
                "date": 1_700_000_000,
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Metodbot"},
                "text": params.get("text"),
                "caption": params.get("caption"),
                "reply_markup": params.get("reply_markup")
                if isinstance(params.get("reply_markup"), dict)
                and "inline_keyboard" in params["reply_markup"]
                else None,
            }
            return Message.model_validate({k: v for k, v in data.items() if v is not None})
        if name == "copyMessage":
            return MessageId(message_id=next(self._ids))
        if name == "getMe":
            return method.__returning__.model_validate(
                {
                    "id": BOT_ID,
                    "is_bot": True,
                    "first_name": "Metodbot",
                    "username": "metodbot_test_bot",
                }
            )
        return True

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - BaseSession's signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:  # pragma: no cover - not used by dispatcher tests
        yield b""

    def of(self, method: str) -> list[Request]:
        return [r for r in self.requests if r.method == method]

    def texts(self) -> list[str]:
        return [str(r.params.get("text") or r.params.get("caption") or "") for r in self.requests]
