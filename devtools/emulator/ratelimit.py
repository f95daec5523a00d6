"""Telegram's flood limits, as an opt-in mode of the emulator (`BotAPIEmulator(rate_limits=…)`).

Telegram documents its limits loosely ("about 30 messages per second" to different chats, "no
more than one message per second" in one chat; with `allow_paid_broadcast` "up to 1000
messages per second") and answers beyond them with `429 Too Many Requests: retry after N`.
The emulator enforces them with token buckets, one per limit:

* overall: `rate` tokens a second (30), holding at most one second's worth (`rate` tokens), so
  a bot may send a burst of 30 after a quiet second but never more than 30 + 30·t in t seconds;
* calls with `allow_paid_broadcast: true` take their token from a bucket of `paid_rate` (1000)
  a second instead;
* per chat: 1 token a second, holding 1 (two messages to one chat are 1 s apart at least).

Only `send*` and `copy*` calls addressed to a chat count (`sendChatAction` does not; edits,
deletes and `answerCallbackQuery` do not). A refused call takes no token: the answer says in
how many whole seconds (at least 1, as Telegram's `retry_after`) the bucket that refused it has
a token again. The clock is injectable for the tests.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RateLimits", "TokenBucket"]

#: methods that look like sends but do not send a message
_NOT_MESSAGES = frozenset({"sendchataction"})
#: a token short by less than this is whole (float sums of 1/rate)
_EPSILON = 1e-9


@dataclass
class TokenBucket:
    """`rate` tokens a second, at most `capacity`; full at the start."""

    rate: float
    capacity: float
    tokens: float = -1.0
    at: float = 0.0

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.capacity

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now

    def wait(self, now: float) -> float:
        """Seconds until one token is there (0: there is one now)."""
        self.refill(now)
        missing = 1 - self.tokens
        return 0.0 if missing <= _EPSILON else missing / self.rate

    def take(self) -> None:
        self.tokens -= 1


@dataclass
class RateLimits:
    """The limits of one bot; :meth:`check` is asked before every call is handled."""

    rate: float = 30.0
    paid_rate: float = 1000.0
    chat_rate: float = 1.0
    clock: Callable[[], float] = time.monotonic
    #: how many calls were answered 429
    refused: int = 0
    #: of them, by the per-chat limit
    refused_chat: int = 0
    _free: TokenBucket = field(init=False)
    _paid: TokenBucket = field(init=False)
    _chats: dict[int, TokenBucket] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        now = self.clock()
        self._free = TokenBucket(self.rate, self.rate, at=now)
        self._paid = TokenBucket(self.paid_rate, self.paid_rate, at=now)

    @staticmethod
    def counts(method: str) -> bool:
        name = method.lower()
        return name.startswith(("send", "copy")) and name not in _NOT_MESSAGES

    def check(self, method: str, chat_id: int | None, params: Mapping[str, Any]) -> int | None:
        """None if the call may go (its tokens are taken), else the `retry_after` seconds."""
        if not self.counts(method) or chat_id is None:
            return None
        now = self.clock()
        overall = self._paid if params.get("allow_paid_broadcast") is True else self._free
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = TokenBucket(self.chat_rate, 1.0, at=now)
        chat_wait, overall_wait = chat.wait(now), overall.wait(now)
        if chat_wait == 0 and overall_wait == 0:
            chat.take()
            overall.take()
            return None
        self.refused += 1
        if chat_wait > 0:
            self.refused_chat += 1
        return max(1, math.ceil(max(chat_wait, overall_wait)))
