"""An iCalendar (RFC 5545) file for one event, so a teacher can add it to a phone calendar.

Written with the `icalendar` library (escaping, parameter quoting, folding long lines on
UTF-8 character boundaries, CRLF). Pure: no I/O, the current time is passed in. Times are
written in UTC ("...Z"), which every calendar application understands without a VTIMEZONE
block. What the library leaves to the caller is checked here: control characters that TEXT
values may not hold are dropped, and the input is validated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when a file is made: the running bot rarely needs the library
    from icalendar import vText

PRODID = "-//metodbot//RU"
STATUSES = frozenset({"CONFIRMED", "CANCELLED", "TENTATIVE"})
#: ORGANIZER must be a calendar address; the bot knows only a display name, so the name goes
#: into the CN parameter of a reserved, never-deliverable address (RFC 2606 ".invalid").
ORGANIZER_ADDRESS = "mailto:noreply@metodbot.invalid"

_NEWLINES_RE = re.compile(r"\r\n|\r|\n")
#: control characters that RFC 5545 TEXT does not allow (HTAB is allowed; newlines are
#: handled before this runs).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_URI_BAD_RE = re.compile(r"[\x00-\x20\x7f\"<>\\^`{|}]")


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    uid: str  # stable, e.g. "event-12@metodbot"
    title: str
    starts_at: datetime  # timezone-aware
    ends_at: datetime  # timezone-aware, after starts_at
    description: str = ""
    location: str = ""  # address, or empty
    url: str = ""  # online link, or empty
    organizer: str = ""  # display name, optional
    status: str = "CONFIRMED"  # or "CANCELLED" (or "TENTATIVE")
    sequence: int = 0  # bump on every change so calendars replace the old copy


def clean_text(value: str) -> str:
    """The text as it will be stored: newlines unified to LF, other control chars dropped."""
    return _CONTROL_RE.sub("", _NEWLINES_RE.sub("\n", value))


@cache
def _text_type() -> type[vText]:
    from icalendar import vText

    class _Text(vText):
        """A TEXT value escaped exactly as RFC 5545 (3.3.11) says: backslash, semicolon, comma and
        the line break, nothing else. icalendar's own escaping first reads a typed backslash-N as
        a line break (so a title "A\\N" would come back as "A" and a new line); here those two
        characters stay two characters. The text has passed `clean_text` (LF line breaks only)."""

        __slots__ = ()

        def to_ical(self) -> bytes:
            escaped = (
                str(self)
                .replace("\\", "\\\\")
                .replace(";", "\\;")
                .replace(",", "\\,")
                .replace("\n", "\\n")
            )
            return escaped.encode("utf-8")  # the file is UTF-8 throughout

    return _Text


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware: {value!r}")
    return value.astimezone(UTC)


def _check_uri(url: str) -> str:
    url = url.strip()
    if _URI_BAD_RE.search(url):
        raise ValueError(f"the URL holds characters a URI may not contain: {url!r}")
    return url


def to_ics(event: CalendarEvent, *, now: datetime, reminder_minutes: int | None = 60) -> bytes:
    """The event as a UTF-8 .ics file (one VEVENT in a METHOD:PUBLISH VCALENDAR).

    Empty description, location and URL are left out. An online event (a URL and no
    address) gets the URL as its LOCATION too, and the URL is appended to the description
    when it is not already there: several calendar apps ignore the URL property. A
    cancelled event gets no reminder. Raises ValueError on naive datetimes, on
    ends_at <= starts_at, on an empty uid or title, on an unknown status, a negative
    sequence or reminder, and on a URL with spaces or control characters.
    """
    dtstamp = _utc(now, "now")
    dtstart = _utc(event.starts_at, "starts_at")
    dtend = _utc(event.ends_at, "ends_at")
    if event.ends_at <= event.starts_at:
        raise ValueError("ends_at must be after starts_at")
    if event.status not in STATUSES:
        raise ValueError(f"unknown status {event.status!r}; expected one of {sorted(STATUSES)}")
    if event.sequence < 0:
        raise ValueError("sequence must not be negative")
    if reminder_minutes is not None and reminder_minutes < 0:
        raise ValueError("reminder_minutes must not be negative")

    uid = clean_text(event.uid).strip()
    title = clean_text(event.title).strip()
    if not uid:
        raise ValueError("uid must not be empty")
    if not title:
        raise ValueError("title must not be empty")
    url = _check_uri(event.url)
    location = clean_text(event.location).strip() or url
    description = clean_text(event.description).strip()
    if url and url not in description:
        description = f"{description}\n\n{url}" if description else url

    from icalendar import Alarm, Calendar, vCalAddress, vUri
    from icalendar import Event as VEvent

    _Text = _text_type()
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    vevent = VEvent()
    vevent.add("uid", _Text(uid))
    vevent.add("dtstamp", dtstamp)
    vevent.add("dtstart", dtstart)
    vevent.add("dtend", dtend)
    vevent.add("summary", _Text(title))
    if description:
        vevent.add("description", _Text(description))
    if location:
        vevent.add("location", _Text(location))
    if url:
        vevent.add("url", vUri(url))
    if event.organizer.strip():
        organizer = vCalAddress(ORGANIZER_ADDRESS)
        organizer.params["cn"] = clean_text(event.organizer.strip())
        vevent.add("organizer", organizer)
    vevent.add("status", event.status)
    vevent.add("sequence", event.sequence)
    if reminder_minutes is not None and event.status != "CANCELLED":
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", _Text(title))
        alarm.add("trigger", timedelta(minutes=-reminder_minutes))
        vevent.add_component(alarm)
    calendar.add_component(vevent)
    ics: bytes = calendar.to_ical()
    return ics
