"""Long HTML texts: split on element boundaries into messages Telegram accepts.

Telegram rejects a message over 4096 characters, and a text cut at a fixed length can end
inside a tag (`<b>Ти`) or an entity (`&am`), which makes Telegram reject it too. Every long
text is built as a list of blocks (lines, cards) and packed with :func:`split_html`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from aiogram import Bot
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from handlers.common import show

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


async def send_long(
    bot: Bot,
    chat_id: int,
    blocks: Sequence[str],
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Send a long text as several messages; the buttons go under the last one."""
    chunks = split_html(blocks)
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        await bot.send_message(chat_id, chunk, reply_markup=markup if last else None)


async def show_long(
    event: Message | CallbackQuery,
    blocks: Sequence[str],
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Like `show`: the first part replaces the tapped message (or answers the typed one),
    further parts follow as new messages; the buttons go under the last part."""
    chunks = split_html(blocks) or ["—"]
    first, rest = chunks[0], chunks[1:]
    await show(event, first, None if rest else markup)
    if not rest:
        return
    message = event.message if isinstance(event, CallbackQuery) else event
    assert message is not None and event.bot is not None
    await send_long(event.bot, message.chat.id, rest, markup)
