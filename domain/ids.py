"""Ids typed by users or carried in payloads: ASCII digits only, within the database's range."""

from __future__ import annotations

import re

#: the largest value a BIGINT column (and SQLite's INTEGER) holds
ID_MAX = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_id(text: str | None, *, maximum: int = ID_MAX) -> int | None:
    """A positive id from user text (`" 123 "` → 123), or None.

    Only ASCII digits count: `str.isdigit()` also accepts "²" or "٣", which `int()` then
    rejects or reads as another number. Signs, spaces inside, zero and values above `maximum`
    (a database id never exceeds a signed 64-bit integer) are refused.
    """
    value = (text or "").strip()
    if not _DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if 0 < number <= maximum else None
