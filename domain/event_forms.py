"""Pure rules of the event and site forms (the /newevent and /newsite wizards, the edit forms):
parsing dates, places, numbers and modules, the limits, and site codes. The labels of kinds
and statuses are in `ui.texts`, event times in `ui.formatting`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

# ------------------------------------------------------------------ pure rules

DATE_FORMAT = "%d.%m.%Y %H:%M"
TITLE_MIN, TITLE_MAX = 3, 200
DESCRIPTION_MAX = 2000
PLACE_MIN, PLACE_MAX = 3, 300
CAPACITY_MIN, CAPACITY_MAX = 1, 10000
CONTACT_MIN, CONTACT_MAX = 3, 200
MODULE_HOURS_MIN, MODULE_HOURS_MAX = 1, 200
MODULES_MIN, MODULES_MAX = 1, 20
MESSAGE_MAX = 1000
SKIP = "-"
SCHOOLS_PER_PAGE = 10
ATTENDANCE_BUTTONS = 30
SHOWN_SINCE = timedelta(days=30)
SITE_CODE_PREFIX_MAX = 22  # site-<22>-<4 digits> fits Site.code (32)
SITES_PER_PAGE = 10

_WHOLE_RE = re.compile(r"[0-9]{1,9}")
_MODULE_RE = re.compile(r"^(?P<title>.*\S)\s*[—–|-]\s*(?P<hours>[0-9]{1,4})\s*$")


def parse_local(text: str, tz: tzinfo) -> datetime | None:
    """ "DD.MM.YYYY HH:MM" in the local zone, as an aware UTC datetime; None if malformed."""
    try:
        naive = datetime.strptime(" ".join(text.split()), DATE_FORMAT)
    except ValueError:
        return None
    return naive.replace(tzinfo=tz).astimezone(UTC)


def parse_end(text: str, starts_at: datetime, tz: tzinfo) -> datetime | None:
    """The end: "HH:MM" on the start's local day, or a full "DD.MM.YYYY HH:MM"."""
    value = " ".join(text.split())
    try:
        clock = datetime.strptime(value, "%H:%M").time()
    except ValueError:
        return parse_local(value, tz)
    day = starts_at.astimezone(tz).date()
    return datetime.combine(day, clock).replace(tzinfo=tz).astimezone(UTC)


def split_place(text: str) -> tuple[str, str]:
    """(address, online link): a text starting with http(s):// is the link."""
    value = text.strip()
    if value.lower().startswith(("http://", "https://")):
        return "", value
    return value, ""


def parse_whole(text: str, low: int, high: int) -> int | None:
    value = text.strip()
    if not _WHOLE_RE.fullmatch(value):
        return None
    number = int(value)
    return number if low <= number <= high else None


def fits(text: str, low: int, high: int) -> bool:
    return low <= len(text) <= high


class BadModuleLine(ValueError):
    """A module line that is not "Title — hours" (1-based line number among non-empty lines)."""

    def __init__(self, number: int, line: str) -> None:
        super().__init__(f"line {number}: {line!r}")
        self.number = number
        self.line = line


def parse_modules(text: str) -> list[tuple[str, int]]:
    """Lines "Module title — 6" (separator —, -, | ; hours 1..200) → [(title, hours)]."""
    modules: list[tuple[str, int]] = []
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for number, line in enumerate(lines, start=1):
        match = _MODULE_RE.match(line)
        if match is None:
            raise BadModuleLine(number, line)
        title = " ".join(match.group("title").split())
        hours = int(match.group("hours"))
        if not title or len(title) > TITLE_MAX:
            raise BadModuleLine(number, line)
        if not MODULE_HOURS_MIN <= hours <= MODULE_HOURS_MAX:
            raise BadModuleLine(number, line)
        modules.append((title, hours))
    return modules


def site_code(municipality_code: str, number: int) -> str:
    return f"site-{municipality_code[:SITE_CODE_PREFIX_MAX]}-{number}"


def local_text(value: datetime, tz: tzinfo) -> str:
    return value.astimezone(tz).strftime(DATE_FORMAT)
