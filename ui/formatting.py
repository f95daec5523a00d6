"""How things are shown: HTML escaping, dates and times in the user's zone, counts with plural
forms, and long HTML texts split into messages Telegram accepts.

One place for each format, so a date reads the same on a card, in a notice and in a file.
Quoting and shortening titles are pure rules in `domain.typography`. No sending here: what
needs a bot lives in `handlers.formatting`.

Long texts: Telegram rejects a message over 4096 characters, and a text cut at a fixed length
can end inside a tag (`<b>Ти`) or an entity (`&am`), which makes Telegram reject it too. Every
long text is built as a list of blocks (lines, cards) and packed with :func:`split_html`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import date, datetime, tzinfo

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from domain.events import CANCEL_BEFORE, days_ahead, free_seats

# ------------------------------------------------------------------ escaping


def h(value: object) -> str:
    """Escape user-provided text for an HTML message."""
    return html.escape(str(value), quote=False)


# ------------------------------------------------------------------ dates and times


def date_text(value: date | datetime, tz: tzinfo | None = None) -> str:
    """A day: "05.12.2026"; a datetime is first put into the zone `tz`."""
    if isinstance(value, datetime) and tz is not None:
        value = value.astimezone(tz)
    return value.strftime("%d.%m.%Y")


def moment_text(value: datetime, tz: tzinfo) -> str:
    """A moment this year in a list or a deadline: "05.12 15:00" in the zone `tz`."""
    return value.astimezone(tz).strftime("%d.%m %H:%M")


def _relative(starts_at: datetime, tz: tzinfo, now: datetime | None) -> str | None:
    """ "today at 18:00" / "tomorrow at 10:00" in the zone `tz`, else None."""
    if now is None:
        return None
    time = starts_at.astimezone(tz).strftime("%H:%M")
    days = days_ahead(starts_at, now, tz)
    if days == 0:
        return _("today at {time}").format(time=time)
    if days == 1:
        return _("tomorrow at {time}").format(time=time)
    return None


def when_text(
    starts_at: datetime, ends_at: datetime, tz: tzinfo, now: datetime | None = None
) -> str:
    """An event's time in the zone `tz`: "05.12.2026, 15:00–17:00", or both full dates when it
    spans days ("05.12.2026 15:00 – 06.12.2026 12:00"). With `now`, today's and tomorrow's
    events say so first: "today at 18:00–20:00 (29.11.2026)"."""
    start, end = starts_at.astimezone(tz), ends_at.astimezone(tz)
    relative = _relative(starts_at, tz, now)
    if relative is not None:
        if start.date() == end.date():
            return f"{relative}–{end:%H:%M} ({start:%d.%m.%Y})"
        return f"{relative} – {end:%d.%m.%Y %H:%M}"
    if start.date() == end.date():
        return f"{start:%d.%m.%Y}, {start:%H:%M}–{end:%H:%M}"
    return f"{start:%d.%m.%Y %H:%M} – {end:%d.%m.%Y %H:%M}"


def hours_text(starts_at: datetime, ends_at: datetime, tz: tzinfo) -> str:
    """An event's hours in a list that already names its day: "10:00–14:30" in the zone
    `tz`, or "23:30 – 06.12.2026 01:30" when it ends on another day."""
    start, end = starts_at.astimezone(tz), ends_at.astimezone(tz)
    if start.date() == end.date():
        return f"{start:%H:%M}–{end:%H:%M}"
    return f"{start:%H:%M} – {end:%d.%m.%Y %H:%M}"


def start_text(starts_at: datetime, tz: tzinfo, now: datetime) -> str:
    """A list line's start: "today at 18:00", "tomorrow at 10:00" or "05.12 15:00"."""
    return _relative(starts_at, tz, now) or moment_text(starts_at, tz)


def day_label(starts_at: datetime, tz: tzinfo, now: datetime) -> str:
    """A button's day: "today", "tomorrow" or "05.12"."""
    days = days_ahead(starts_at, now, tz)
    if days == 0:
        return _("today")
    if days == 1:
        return _("tomorrow")
    return starts_at.astimezone(tz).strftime("%d.%m")


# ------------------------------------------------------------------ counts (plural forms)


def cancel_rule_text() -> str:
    n = int(CANCEL_BEFORE.total_seconds() // 3600)
    return ngettext(
        "A registration can be cancelled no later than {n} hour before the start.",
        "A registration can be cancelled no later than {n} hours before the start.",
        n,
    ).format(n=n)


def seats_text(capacity: int, taken: int) -> str:
    left = free_seats(capacity, taken)
    if left == 0:
        return _("no seats left: the waitlist is open")
    return ngettext("{n} seat left of {total}", "{n} seats left of {total}", left).format(
        n=left, total=capacity
    )


# ------------------------------------------------------------------ long HTML texts

TEXT_LIMIT = 4096

#: a tag, an entity, a whitespace run, or a run of other characters
_TOKEN = re.compile(r"<[^<>]*>|&#?[A-Za-z0-9]+;|\s+|[^<&\s]+|[<&]")
_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9-]*)")


def _units(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts (an emoji can be 2)."""
    return len(text.encode("utf-16-le")) // 2


def _size(fragment: str) -> int:
    """What Telegram counts against the limit: the text after entity parsing (tags count
    nothing, `&lt;` counts one), in UTF-16 code units."""
    return _units(html.unescape(re.sub(r"<[^<>]*>", "", fragment)))


def _visible(chunk: str) -> bool:
    """Whether a chunk shows anything once its tags are removed."""
    return bool(re.sub(r"<[^<>]*>", "", chunk).strip())


def _split_block(block: str, limit: int) -> list[str]:
    """Cut one over-long block between tokens, never inside a tag or an entity; tags open
    at a cut are closed at the end of the piece and opened again at the start of the next."""
    pieces: list[str] = []
    stack: list[tuple[str, str]] = []  # (name, the opening tag as written)

    def opening() -> str:
        return "".join(tag for _, tag in stack)

    def closing() -> str:
        return "".join(f"</{name}>" for name, _ in reversed(stack))

    current = ""
    for match in _TOKEN.finditer(block):
        token = match.group(0)
        tag = _TAG.match(token) if token.startswith("<") and token.endswith(">") else None
        if tag is not None and tag.group(1):  # an end tag: the piece never grows by it
            current += token
            name = tag.group(2).lower()
            for index in range(len(stack) - 1, -1, -1):
                if stack[index][0] == name:
                    del stack[index]
                    break
            continue
        if token.isspace() and not _visible(current):
            continue  # no piece starts with blank space
        extra = _size(f"</{tag.group(2)}>") if tag is not None else 0
        while _size(current) + _size(token) + extra + _size(closing()) > limit:
            if _visible(current):
                pieces.append(current + closing())
                current = opening()
                if token.isspace():
                    token = ""
                    break
                continue
            room = limit - _size(current) - _size(closing())
            if tag is not None or token.startswith("&") or room <= 0:
                raise ValueError("the limit is too small for the markup of one block")
            taken = ""
            for char in token:  # one word longer than a message: cut between characters
                if _size(taken + char) > room:
                    break
                taken += char
            pieces.append(current + taken + closing())
            current = opening()
            token = token[len(taken) :]
        if not token:
            continue
        current += token
        if tag is not None:
            stack.append((tag.group(2).lower(), token))
    if _visible(current):
        pieces.append(current + closing())
    return pieces


def split_html(blocks: Sequence[str], limit: int = TEXT_LIMIT, sep: str = "\n") -> list[str]:
    """Pack whole blocks (each a well-formed HTML fragment) into texts of at most `limit`
    UTF-16 units, joined by `sep`. A block longer than `limit` alone is cut between words
    with its open tags closed and reopened. Never returns an empty text (an empty input gives
    an empty list)."""
    chunks: list[str] = []
    current: str | None = None
    for block in blocks:
        if _size(block) > limit:
            if current is not None:
                chunks.append(current)
                current = None
            chunks.extend(_split_block(block, limit))
            continue
        if current is None:
            current = block
        elif _size(current) + _size(sep) + _size(block) <= limit:
            current += sep + block
        else:
            chunks.append(current)
            current = block
    if current is not None:
        chunks.append(current)
    return [c for c in chunks if _visible(c)]
