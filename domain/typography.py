"""Typography of shown text: quoting titles, shortening labels, numbers in the user's locale.

Pure functions (no aiogram); the callers escape the result for HTML."""

from __future__ import annotations

import re

from babel.numbers import format_decimal

#: quotes a title may carry itself (an apostrophe, as in O'Neil, is not one)
_TITLE_QUOTES = '«»„“”"‹›'
ELLIPSIS = "…"
_SITE_WORDS = re.compile(r"площадк|\bsite\b", re.IGNORECASE)


def quoted(title: str) -> str:
    """The title in «», unless it has quotes of its own: 'Стажировка «Функциональная
    грамотность» (модуль 2)' is shown as it is, never as «Стажировка «…» (модуль 2)»."""
    text = title.strip()
    if not text:
        return "«»"
    if any(c in _TITLE_QUOTES for c in text):  # an apostrophe (O'Neil) is not a quote
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
