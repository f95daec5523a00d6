"""Telegram text formatting as the Bot API server understands it.

Parses message text in ``HTML``, ``MarkdownV2`` and legacy ``Markdown`` parse modes the way
Telegram does: it yields the plain text that users see, the message entities (offsets and
lengths in UTF-16 code units) and the errors Telegram would answer with
("Can't parse entities: ...").  The emulator uses it to enforce length limits "after entities
parsing", to reject malformed markup and to build realistic ``Message`` objects.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

__all__ = [
    "ALLOWED_HTML_TAGS",
    "PARSE_MODES",
    "ParsedText",
    "parse_formatted",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
    "strip_formatting",
    "utf16_len",
    "valid_text",
]

#: Accepted ``parse_mode`` values (compared case-insensitively, as Telegram does).
PARSE_MODES: tuple[str, ...] = ("HTML", "MarkdownV2", "Markdown")

#: HTML tags Telegram accepts, mapped to the entity type they produce.
ALLOWED_HTML_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "tg-time": "date_time",
}

_NAMED_ENTITIES: dict[str, str] = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")


def valid_text(text: str) -> str:
    """``text`` as Telegram would carry it: lone surrogates (a character cut in half, or
    bytes decoded with ``surrogateescape``) become U+FFFD, surrogate pairs are joined.

    Telegram only carries valid UTF-8, so neither an update nor a bot message can hold a
    lone surrogate; the emulator applies this to everything it injects.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (how Telegram counts characters)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class ParsedText:
    """Result of parsing formatted text: what the user sees, its entities and parse errors."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when Telegram would accept the markup."""
        return not self.errors


class _EntityBuilder:
    """Accumulates plain text and entities with UTF-16 offsets."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.offset = 0
        self.entities: list[dict[str, Any]] = []

    def add(self, text: str) -> None:
        if text:
            self.parts.append(text)
            self.offset += utf16_len(text)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        length = self.offset - start
        if length > 0:
            item: dict[str, Any] = {"type": kind, "offset": start, "length": length}
            item.update({k: v for k, v in extra.items() if v is not None})
            self.entities.append(item)

    def result(self, errors: list[str]) -> ParsedText:
        entities = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self.parts), entities, errors)


class _TelegramHTMLParser(HTMLParser):
    """Strict parser for Telegram's HTML subset built on :mod:`html.parser`."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source = source
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self.out = _EntityBuilder()
        self.errors: list[str] = []
        # open tags: (tag, utf16 start offset, extra entity fields)
        self.stack: list[tuple[str, int, dict[str, Any]]] = []

    # -- helpers -----------------------------------------------------------------
    def _abs_pos(self) -> int:
        line, col = self.getpos()
        return self.line_starts[line - 1] + col

    def _error(self, message: str) -> None:
        self.errors.append(message)

    # -- tags --------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_HTML_TAGS:
            self._error(f'unsupported start tag "{tag}"')
            self.stack.append((tag, self.out.offset, {"_invalid": True}))
            return
        attributes = dict(attrs)
        extra: dict[str, Any] = {}
        kind = ALLOWED_HTML_TAGS[tag]
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            self._error('tag "span" must have class "tg-spoiler"')
        elif tag == "a":
            href = attributes.get("href")
            if not href:
                self._error('tag "a" must have a non-empty "href" attribute')
            extra["url"] = href
        elif tag == "tg-emoji":
            if not attributes.get("emoji-id"):
                self._error('tag "tg-emoji" must have an "emoji-id" attribute')
            extra["custom_emoji_id"] = attributes.get("emoji-id")
        elif tag == "tg-time":
            unix = attributes.get("unix")
            if unix is None or not re.fullmatch(r"-?\d+", unix):
                self._error('tag "tg-time" must have an integer "unix" attribute')
            else:
                extra["unix_time"] = int(unix)
            extra["date_time_format"] = attributes.get("format")
        elif tag == "blockquote" and "expandable" in attributes:
            extra["_kind"] = "expandable_blockquote"
        elif tag == "code":
            language = attributes.get("class")
            if language and language.startswith("language-"):
                extra["_language"] = language[len("language-") :]
        self._check_nesting(tag)
        extra.setdefault("_kind", kind)
        self.stack.append((tag, self.out.offset, extra))

    def _check_nesting(self, tag: str) -> None:
        open_tags = [t for t, _, _ in self.stack]
        if not open_tags:
            return
        parent = open_tags[-1]
        if "code" in open_tags:
            self._error(f'tag "{tag}" can\'t be nested inside "code"')
        elif "pre" in open_tags and not (tag == "code" and parent == "pre"):
            self._error(f'tag "{tag}" can\'t be nested inside "pre"')
        elif tag == "blockquote" and "blockquote" in open_tags:
            self._error('tag "blockquote" can\'t be nested')
        elif tag == "a" and "a" in open_tags:
            self._error('tag "a" can\'t be nested')

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in ALLOWED_HTML_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            self._error(f'unexpected end tag "{tag}"')
            return
        open_tag, start, extra = self.stack[-1]
        if open_tag != tag:
            self._error(f'unmatched end tag "{tag}", expected "</{open_tag}>"')
            if tag not in [t for t, _, _ in self.stack]:
                return
            while self.stack and self.stack[-1][0] != tag:
                self.stack.pop()
            open_tag, start, extra = self.stack[-1]
        self.stack.pop()
        if extra.get("_invalid"):
            return
        kind = extra.pop("_kind")
        language = extra.pop("_language", None)
        if kind == "code" and self.stack and self.stack[-1][0] == "pre":
            # <pre><code class="language-x"> gives a single pre entity with a language
            self.stack[-1][2]["_language"] = language
            return
        if kind == "pre":
            extra["language"] = language
        self.out.entity(kind, start, **extra)

    # -- text --------------------------------------------------------------------
    def handle_data(self, data: str) -> None:
        if "<" in data:
            self._error('unsupported start tag: a bare "<" must be written as "&lt;"')
        if "&" in data:
            self._error('a bare "&" must be written as "&amp;"')
        self.out.add(data)

    def handle_entityref(self, name: str) -> None:
        pos = self._abs_pos()
        if name not in _NAMED_ENTITIES:
            self._error(f'unsupported HTML entity "&{name};"')
            return
        if not self.source.startswith(f"&{name};", pos):
            self._error(f'HTML entity "&{name}" must end with ";"')
        self.out.add(_NAMED_ENTITIES[name])

    def handle_charref(self, name: str) -> None:
        pos = self._abs_pos()
        if not self.source.startswith(f"&#{name};", pos):
            self._error(f'HTML entity "&#{name}" must end with ";"')
        try:
            code = int(name[1:], 16) if name[:1] in ("x", "X") else int(name)
            char = chr(code)
        except (ValueError, OverflowError):
            self._error(f'invalid numeric HTML entity "&#{name};"')
            return
        self.out.add(char)

    def handle_comment(self, data: str) -> None:
        self._error("HTML comments are not supported")

    def handle_decl(self, decl: str) -> None:
        self._error("HTML declarations are not supported")

    def handle_pi(self, data: str) -> None:
        self._error("HTML processing instructions are not supported")

    def unknown_decl(self, data: str) -> None:
        self._error("HTML declarations are not supported")

    def finish(self) -> ParsedText:
        self.close()
        for tag, _, extra in reversed(self.stack):
            if not extra.get("_invalid"):
                self._error(f'can\'t find end tag corresponding to start tag "{tag}"')
        return self.out.result(self.errors)


def parse_html(text: str) -> ParsedText:
    """Parse Telegram HTML (``parse_mode="HTML"``)."""
    parser = _TelegramHTMLParser(text)
    parser.feed(text)
    return parser.finish()


def _md_entity_name(marker: str) -> str:
    return {
        "*": "bold",
        "_": "italic",
        "__": "underline",
        "~": "strikethrough",
        "||": "spoiler",
    }[marker]


def parse_markdown_v2(text: str) -> ParsedText:
    """Parse ``parse_mode="MarkdownV2"`` text (reserved characters must be escaped)."""
    out = _EntityBuilder()
    errors: list[str] = []
    stack: list[tuple[str, int]] = []  # (marker, utf16 start)
    i, n = 0, len(text)
    line_start = True
    while i < n:
        char = text[i]
        at_line_start = line_start
        line_start = char == "\n"
        if char == "\\":
            if i + 1 < n and 0 < ord(text[i + 1]) < 127:
                out.add(text[i + 1])
                i += 2
            else:
                out.add(char)
                i += 1
            continue
        if char == "`":
            fence = "```" if text.startswith("```", i) else "`"
            j = i + len(fence)
            language: str | None = None
            if fence == "```":
                newline = text.find("\n", j)
                first_line = text[j:newline] if newline != -1 else ""
                if newline != -1 and first_line and not re.search(r"\s|`", first_line):
                    language = first_line
                    j = newline + 1
            content: list[str] = []
            closed = False
            while j < n:
                if text[j] == "\\" and j + 1 < n:
                    content.append(text[j + 1])
                    j += 2
                    continue
                if text.startswith(fence, j):
                    closed = True
                    break
                content.append(text[j])
                j += 1
            if not closed:
                errors.append(f"can't find end of {'pre' if fence == '```' else 'code'} entity")
                i = n
                continue
            start = out.offset
            out.add("".join(content))
            if fence == "```":
                out.entity("pre", start, language=language)
            else:
                out.entity("code", start)
            i = j + len(fence)
            continue
        marker: str | None = None
        if text.startswith("||", i):
            marker = "||"
        elif text.startswith("__", i):
            marker = "__"
        elif char in "*_~":
            marker = char
        if marker is not None:
            if stack and stack[-1][0] == marker:
                _, start = stack.pop()
                out.entity(_md_entity_name(marker), start)
            elif any(m == marker for m, _ in stack):
                errors.append(f"entity {marker!r} is not closed in the right order")
            else:
                stack.append((marker, out.offset))
            i += len(marker)
            continue
        if char == "[" or text.startswith("![", i):
            is_emoji = char == "!"
            j = i + (2 if is_emoji else 1)
            stack.append(("[" if not is_emoji else "![", out.offset))
            i = j
            continue
        if char == "]" and stack and stack[-1][0] in ("[", "!["):
            opener, start = stack.pop()
            if not text.startswith("(", i + 1):
                errors.append("link text must be followed by (url)")
                i += 1
                continue
            j = i + 2
            url_chars: list[str] = []
            while j < n and text[j] != ")":
                if text[j] == "\\" and j + 1 < n:
                    url_chars.append(text[j + 1])
                    j += 2
                    continue
                url_chars.append(text[j])
                j += 1
            if j >= n:
                errors.append("can't find end of a URL")
                i = n
                continue
            url = "".join(url_chars)
            if opener == "![":
                emoji_id = url.split("id=", 1)[1] if "id=" in url else None
                out.entity("custom_emoji", start, custom_emoji_id=emoji_id)
            else:
                out.entity("text_link", start, url=url)
            i = j + 1
            continue
        if char == ">" and at_line_start:
            i += 1
            continue
        if char in _MDV2_RESERVED:
            errors.append(
                f"character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        out.add(char)
        i += 1
    for marker, _ in reversed(stack):
        errors.append(f"can't find end of the entity starting with {marker!r}")
    return out.result(errors)


def parse_markdown(text: str) -> ParsedText:
    """Parse legacy ``parse_mode="Markdown"`` text."""
    out = _EntityBuilder()
    errors: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
            continue
        if char in "*_`":
            fence = "```" if text.startswith("```", i) else char
            end = text.find(fence, i + len(fence))
            if end == -1:
                errors.append(f"can't find end of the entity starting at offset {i}")
                out.add(text[i:])
                break
            start = out.offset
            out.add(text[i + len(fence) : end])
            kind = {"*": "bold", "_": "italic", "`": "code", "```": "pre"}[fence]
            out.entity(kind, start)
            i = end + len(fence)
            continue
        if char == "[":
            close = text.find("](", i)
            end = text.find(")", close + 2) if close != -1 else -1
            if close == -1 or end == -1:
                errors.append(f"can't find end of the entity starting at offset {i}")
                out.add(text[i:])
                break
            start = out.offset
            out.add(text[i + 1 : close])
            out.entity("text_link", start, url=text[close + 2 : end])
            i = end + 1
            continue
        out.add(char)
        i += 1
    return out.result(errors)


def parse_formatted(text: str, parse_mode: str | None) -> ParsedText:
    """Parse ``text`` according to ``parse_mode`` (``None``/unknown: plain text)."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    return ParsedText(text)


def strip_formatting(text: str, parse_mode: str | None) -> str:
    """The plain text a user would see (markup removed, HTML entities unescaped)."""
    return parse_formatted(text, parse_mode).text


_ENTITY_TAGS = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "spoiler": ("<tg-spoiler>", "</tg-spoiler>"),
    "code": ("<code>", "</code>"),
    "pre": ("<pre>", "</pre>"),
    "blockquote": ("<blockquote>", "</blockquote>"),
}


def entities_to_html(text: str, entities: list[dict[str, Any]]) -> str:
    """Telegram HTML for `text` with its `entities` (UTF-16 offsets): what a copied message
    looks like; entities the emulator does not draw (mentions, hashtags …) stay plain."""
    units = text.encode("utf-16-le")
    opens: dict[int, list[str]] = {}
    closes: dict[int, list[str]] = {}
    for entity in sorted(entities, key=lambda e: (e["offset"], -e["length"])):
        kind = entity.get("type")
        if kind == "text_link":
            tags = (f'<a href="{html.escape(str(entity.get("url", "")))}">', "</a>")
        elif kind in _ENTITY_TAGS:
            tags = _ENTITY_TAGS[kind]
        else:
            continue
        start, end = entity["offset"], entity["offset"] + entity["length"]
        opens.setdefault(start, []).append(tags[0])
        closes.setdefault(end, []).insert(0, tags[1])
    out: list[str] = []
    for unit in range(len(units) // 2 + 1):
        out.extend(closes.get(unit, []))
        out.extend(opens.get(unit, []))
        if unit < len(units) // 2:
            chunk = units[unit * 2 : unit * 2 + 2]
            # a surrogate pair is two units: decode them together at the first
            if 0xD800 <= int.from_bytes(chunk, "little") <= 0xDBFF:
                out.append(html.escape(units[unit * 2 : unit * 2 + 4].decode("utf-16-le")))
            elif not 0xDC00 <= int.from_bytes(chunk, "little") <= 0xDFFF:
                out.append(html.escape(chunk.decode("utf-16-le"), quote=False))
    return "".join(out)
