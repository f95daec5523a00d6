"""The one clock of the bot: an object with `now()`, created once and handed to whoever needs it.

`BotApp` owns a `Clock` (a `SystemClock` unless one is given) and puts it into the dispatcher's
workflow data as `clock`: handlers declare `clock: Clock` and pass `clock.now()` to services and
repositories, the scheduler gets the same object. Tests inject a `ManualClock` instead of
patching module attributes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


def utcnow() -> datetime:
    """The wall clock, timezone-aware UTC."""
    return datetime.now(UTC)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware UTC."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return utcnow()

    def __repr__(self) -> str:
        return "SystemClock()"


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the clock keeps timezone-aware datetimes only")
    return moment.astimezone(UTC)


class ManualClock:
    """A clock that stands still until told otherwise (tests, the console's time travel)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = _as_utc(start) if start is not None else utcnow()

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = _as_utc(moment)

    def advance(self, delta: timedelta | None = None, /, **parts: float) -> datetime:
        """Move forward by `delta` or by `timedelta(**parts)`; return the new now."""
        step = delta if delta is not None else timedelta(**parts)
        self._now += step
        return self._now

    def __repr__(self) -> str:
        return f"ManualClock({self._now.isoformat()})"


class ShiftedClock:
    """The real time moved by an offset that only grows: the console's time travel (`:time`),
    where the bot keeps running in real time after the jump."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return utcnow() + self.offset

    def shift(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("time travel goes forward only")
        self.offset += delta
        return self.now()

    def __repr__(self) -> str:
        return f"ShiftedClock(+{self.offset})"
