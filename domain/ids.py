"""Numbers typed by people: ids in command arguments."""

from __future__ import annotations

import re

#: ASCII digits only: `str.isdigit` also accepts "²" or "٣", which `int` then rejects
_ID_RE = re.compile(r"[0-9]{1,16}")
#: Telegram ids fit in 52 bits; database ids are far below
MAX_ID = 2**52


def parse_id(text: str) -> int | None:
    """A positive id typed by a person (surrounding spaces allowed), or None."""
    text = text.strip()
    if not _ID_RE.fullmatch(text):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None
