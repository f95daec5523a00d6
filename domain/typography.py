"""Typography of shown text: quoting titles, shortening labels, numbers in the user's locale.

Pure functions (no aiogram); the callers escape the result for HTML."""

from __future__ import annotations

import re

from babel.numbers import format_decimal

OPENING_QUOTES = "«\"“„'‘‹"
CLOSING_QUOTES = "»\"”“'’›"
ELLIPSIS = "…"
_SITE_WORDS = re.compile(r"площадк|\bsite\b", re.IGNORECASE)


def quoted(title: str) -> str:
    """The title in «», unless it already starts or ends with a quote (a title such as
    'Стажировка «Функциональная грамотность»' is shown as it is, not as «Стажировка «…»»).
    Trailing emoji and punctuation do not count as the end."""
    text = title.strip()
    if not text:
        return "«»"
    meaningful = [c for c in text if c.isalnum() or c in OPENING_QUOTES or c in CLOSING_QUOTES]
    if meaningful and (meaningful[0] in OPENING_QUOTES or meaningful[-1] in CLOSING_QUOTES):
        return text
    return f"«{text}»"


def names_a_site(title: str) -> bool:
    """True if the title already says it is a site ('Стажировочная площадка …'), so no
    'internship site' label goes in front of it."""
    return bool(_SITE_WORDS.search(title))


def shorten(label: str, limit: int) -> str:
    """The label cut to at most `limit` characters on a word boundary, with "…" when cut."""
    text = " ".join(label.split())
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    cut = text[: limit - 1]
    if text[limit - 1] != " " and " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:—–-·(") + ELLIPSIS


def format_number(value: float, locale: str) -> str:
    """A number as the locale writes it: 1,5 in Russian, 1.5 in English; no trailing zeros."""
    return format_decimal(round(value, 2), format="#,##0.##", locale=locale)
