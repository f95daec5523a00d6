"""A small TTL cache of per-user facts the middlewares need on every update."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from domain.roles import Role


@dataclass(frozen=True, slots=True)
class UserContext:
    """What every handler may rely on without a query. Load the `User` row for more."""

    id: int
    telegram_id: int
    language: str
    role: Role
    consent: str
    profile_complete: bool
    #: Telegram said the user blocked the bot (`users.blocked_at`); their next update clears it
    blocked: bool = False
    #: the user's time zone (`users.timezone`; None: the service's `TIMEZONE`). The user
    #: middleware hands handlers the resolved `tz`: every time shown is in it
    timezone: str | None = None

    @property
    def consented(self) -> bool:
        return self.consent == "given"


class UserCache:
    def __init__(
        self, ttl: float = 60.0, max_size: int = 50_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._clock = clock
        self._items: OrderedDict[int, tuple[float, UserContext]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, telegram_id: int) -> UserContext | None:
        item = self._items.get(telegram_id)
        if item is None or item[0] < self._clock():
            if item is not None:
                del self._items[telegram_id]
            self.misses += 1
            return None
        self._items.move_to_end(telegram_id)
        self.hits += 1
        return item[1]

    def put(self, ctx: UserContext) -> None:
        self._items[ctx.telegram_id] = (self._clock() + self.ttl, ctx)
        self._items.move_to_end(ctx.telegram_id)
        while len(self._items) > self.max_size:
            self._items.popitem(last=False)

    def invalidate(self, *telegram_ids: int) -> None:
        for tid in telegram_ids:
            self._items.pop(tid, None)
