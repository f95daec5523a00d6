"""The .ics file of an event, check-in codes and their payloads, QR code PNGs."""

from __future__ import annotations

import random
import re
import struct
import zlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import segno
from hypothesis import example, given
from hypothesis import strategies as st
from icalendar import Calendar

from domain.checkin import (
    CODE_ALPHABET,
    checkin_payload,
    codes_match,
    new_code,
    normalize,
    parse_checkin_payload,
)
from domain.deeplinks import PAYLOAD_RE, parse_payload
from ui.files.calendar import CalendarEvent, clean_text, to_ics
from ui.files.qr import qr_png

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
LONG_RU = (
    "Семинар для учителей начальных классов; тема: «Функциональная грамотность, "
    "читательская и математическая».\nВзять с собой: ноутбук, зарядку, тетрадь.\r\n"
    "Адрес уточняйте у методиста, кабинет 12; вход со двора.\\Конец"
)


def make_event(**changes: object) -> CalendarEvent:
    fields: dict[str, object] = {
        "uid": "event-12@metodbot",
        "title": "Методический семинар",
        "starts_at": datetime(2025, 3, 10, 10, 0, tzinfo=MSK),
        "ends_at": datetime(2025, 3, 10, 11, 30, tzinfo=MSK),
    }
    fields.update(changes)
    return CalendarEvent(**fields)  # type: ignore[arg-type]


# --- a minimal iCalendar reader -------------------------------------------------------


def physical_lines(ics: bytes) -> list[bytes]:
    assert ics.endswith(b"\r\n")
    lines = ics[:-2].split(b"\r\n")
    assert all(b"\r" not in line and b"\n" not in line for line in lines)
    return lines


def unfold(ics: bytes) -> list[str]:
    logical: list[str] = []
    for raw in physical_lines(ics):
        line = raw.decode("utf-8")
        if line.startswith(" "):
            logical[-1] += line[1:]
        else:
            logical.append(line)
    return logical


def unescape(value: str) -> str:
    out: list[str] = []
    chars = iter(value)
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        nxt = next(chars)
        out.append("\n" if nxt in "nN" else nxt)
        assert nxt in "nN\\;,", f"unexpected escape \\{nxt}"
    return "".join(out)


def properties(ics: bytes, component: str = "VEVENT") -> dict[str, str]:
    """NAME (with parameters) → raw value, for the lines directly inside `component`."""
    props: dict[str, str] = {}
    depth: list[str] = []
    for line in unfold(ics):
        name, _, value = line.partition(":")
        if name == "BEGIN":
            depth.append(value)
        elif name == "END":
            assert depth.pop() == value
        elif depth and depth[-1] == component:
            assert name not in props
            props[name] = value
    assert depth == []
    return props


# --- iCalendar --------------------------------------------------------------------------


def test_ics_fields() -> None:
    event = make_event(
        description=LONG_RU,
        location="г. Москва, ул. Ленина, д. 1; каб. 12",
        url="https://example.org/meet?id=1,2",
        organizer='Методический центр "Развитие"',
        sequence=3,
    )
    ics = to_ics(event, now=NOW)
    lines = unfold(ics)
    assert lines[:5] == [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//metodbot//RU",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ]
    assert lines[-1] == "END:VCALENDAR"
    assert lines.count("BEGIN:VEVENT") == 1
    props = properties(ics)
    assert props["UID"] == "event-12@metodbot"
    assert props["DTSTAMP"] == "20250301T093000Z"
    assert props["DTSTART"] == "20250310T070000Z"  # 10:00 Moscow (UTC+3)
    assert props["DTEND"] == "20250310T083000Z"
    assert unescape(props["SUMMARY"]) == "Методический семинар"
    assert unescape(props["DESCRIPTION"]) == (
        clean_text(LONG_RU) + "\n\nhttps://example.org/meet?id=1,2"
    )
    assert unescape(props["LOCATION"]) == "г. Москва, ул. Ленина, д. 1; каб. 12"
    assert props["URL"] == "https://example.org/meet?id=1,2"  # a URI, not escaped TEXT
    assert props["ORGANIZER;CN=\"Методический центр ^'Развитие^'\""].startswith("mailto:")
    assert props["STATUS"] == "CONFIRMED"
    assert props["SEQUENCE"] == "3"


def test_ics_lines_are_crlf_short_and_whole_utf8() -> None:
    ics = to_ics(make_event(description=LONG_RU * 5, title="Я" * 100), now=NOW)
    assert b"\n" not in ics.replace(b"\r\n", b"")
    assert b"\r" not in ics.replace(b"\r\n", b"")
    lines = physical_lines(ics)
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)  # something was folded
    for line in lines:
        line.decode("utf-8")  # a split multi-byte character would raise here


def test_online_event_gets_the_link_as_location() -> None:
    props = properties(to_ics(make_event(url="https://t.me/+abc"), now=NOW))
    assert props["URL"] == "https://t.me/+abc"
    assert props["LOCATION"] == "https://t.me/+abc"
    assert props["DESCRIPTION"] == "https://t.me/+abc"
    # no link, no address, no description: those properties are left out
    bare = properties(to_ics(make_event(), now=NOW))
    assert not {"URL", "LOCATION", "DESCRIPTION", "ORGANIZER"} & {
        name.split(";")[0] for name in bare
    }


def test_reminder() -> None:
    alarm = properties(to_ics(make_event(), now=NOW), "VALARM")
    assert alarm["ACTION"] == "DISPLAY"
    assert alarm["TRIGGER"] == "-PT1H"  # 60 minutes, as the library writes a duration
    assert unescape(alarm["DESCRIPTION"]) == "Методический семинар"
    assert (
        properties(to_ics(make_event(), now=NOW, reminder_minutes=15), "VALARM")["TRIGGER"]
        == "-PT15M"
    )
    assert b"VALARM" not in to_ics(make_event(), now=NOW, reminder_minutes=None)


def test_cancelled_event() -> None:
    ics = to_ics(make_event(status="CANCELLED", sequence=1), now=NOW)
    props = properties(ics)
    assert props["STATUS"] == "CANCELLED"
    assert props["SEQUENCE"] == "1"
    assert b"VALARM" not in ics


@pytest.mark.parametrize(
    ("changes", "now"),
    [
        ({"starts_at": datetime(2025, 3, 10, 10, 0)}, NOW),
        ({"ends_at": datetime(2025, 3, 10, 11, 0)}, NOW),
        ({}, datetime(2025, 3, 1, 9, 30)),
        ({"ends_at": datetime(2025, 3, 10, 7, 0, tzinfo=UTC)}, NOW),  # == starts_at
        ({"ends_at": datetime(2025, 3, 10, 9, 0, tzinfo=MSK)}, NOW),
        ({"title": "  "}, NOW),
        ({"uid": ""}, NOW),
        ({"title": "\x00\n"}, NOW),
        ({"status": "DONE"}, NOW),
        ({"sequence": -1}, NOW),
        ({"url": "https://example.org/a b"}, NOW),
        ({"url": "https://example.org/\r\nX-EVIL:1"}, NOW),
    ],
)
def test_ics_refuses_bad_input(changes: dict[str, object], now: datetime) -> None:
    with pytest.raises(ValueError):
        to_ics(make_event(**changes), now=now)


def test_negative_reminder_is_refused() -> None:
    with pytest.raises(ValueError):
        to_ics(make_event(), now=NOW, reminder_minutes=-5)


def test_other_time_zones_convert_to_utc() -> None:
    starts = datetime(2025, 7, 1, 9, 0, tzinfo=ZoneInfo("Asia/Yekaterinburg"))  # UTC+5
    event = make_event(starts_at=starts, ends_at=starts + timedelta(hours=1))
    props = properties(to_ics(event, now=NOW))
    assert (props["DTSTART"], props["DTEND"]) == ("20250701T040000Z", "20250701T050000Z")


@given(st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from('\n\\;,:" ')))
@example(text="\\N")
@example(text="a\\nb\\N\nc")
def test_text_without_control_characters_round_trips_exactly(text: str) -> None:
    title = "Семинар " + text  # a title must not be blank
    description = text.strip()
    ics = to_ics(make_event(title=title, description=description), now=NOW)
    for physical in physical_lines(ics):
        assert len(physical) <= 75  # folded on octets…
        physical.decode("utf-8")  # …never inside a character
    props = properties(ics)
    assert unescape(props["SUMMARY"]) == title.strip()
    if description:
        assert unescape(props["DESCRIPTION"]) == description


def test_a_typed_backslash_n_stays_two_characters() -> None:
    """A title holding a backslash and "N" or "n" (a path, a formula) is not a line break:
    icalendar's own escaping reads a typed backslash-N as one, so the calendar showed the
    title cut in two. Checked with our reader and with icalendar's parser."""
    title = "Семинар C:\\New\\notes \\N\\n; a, b"
    description = "line 1\nline 2 \\N not a break"
    ics = to_ics(make_event(title=title, description=description), now=NOW)
    props = properties(ics)
    assert unescape(props["SUMMARY"]) == title
    assert unescape(props["DESCRIPTION"]) == description
    assert "\\\\N" in props["SUMMARY"] and "\\\\n" in props["SUMMARY"]
    (parsed,) = Calendar.from_ical(ics).walk("VEVENT")
    assert str(parsed["SUMMARY"]) == title
    assert str(parsed["DESCRIPTION"]) == description
    (alarm,) = parsed.walk("VALARM")
    assert str(alarm["DESCRIPTION"]) == title


@given(st.text(min_size=1).filter(lambda s: clean_text(s).strip()))
def test_any_description_survives_to_ics(text: str) -> None:
    props = properties(to_ics(make_event(description=text, title=text), now=NOW))
    assert unescape(props["DESCRIPTION"]) == clean_text(text).strip()
    assert unescape(props["SUMMARY"]) == clean_text(text).strip()


def test_clean_text_drops_control_characters() -> None:
    assert clean_text("a\r\nb\rc\nd\x00e\x1bf\tg\x7fh") == "a\nb\nc\nde" + "f\tgh"


# --- check-in codes ---------------------------------------------------------------------


def test_new_codes_use_the_alphabet() -> None:
    assert not set("0O1IL") & set(CODE_ALPHABET)
    for length in (4, 6, 12):
        for _ in range(50):
            code = new_code(length)
            assert len(code) == length
            assert set(code) <= set(CODE_ALPHABET)
            assert normalize(code) == code
    assert new_code(rng=random.Random(1)) == new_code(rng=random.Random(1))
    assert len({new_code() for _ in range(100)}) > 95


@pytest.mark.parametrize("length", [0, 3, 13])
def test_new_code_refuses_bad_lengths(length: int) -> None:
    with pytest.raises(ValueError):
        new_code(length)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (" k7m-2qx ", "K7M2QX"),
        ("K7M2QX", "K7M2QX"),
        ("k7m 2qx", "K7M2QX"),
        ("К7М2QХ", "K7M2QX"),  # Cyrillic К, М, Х from a Russian keyboard layout
        ("к7м\u00a02qх", "K7M2QX"),
        ("K7M–2QX", "K7M2QX"),  # an en dash
        ("abcd", "ABCD"),
        ("A" * 12, "A" * 12),
    ],
)
def test_normalize(typed: str, expected: str) -> None:
    assert normalize(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "ABC",
        "A" * 13,
        "K7M2Q0",
        "K7M2QO",
        "K7M2Q1",
        "KIM2QX",
        "K7L2QX",
        "K7M2Q!",
        "ДЖЗИЙ",
    ],
)
def test_normalize_refuses_bad_input(typed: str) -> None:
    assert normalize(typed) is None


def test_payload_round_trip() -> None:
    payload = checkin_payload(12, "k7m-2qx")
    assert payload == "checkin_12-K7M2QX"
    assert parse_checkin_payload(payload) == (12, "K7M2QX")
    # it is an ordinary deep-link payload of kind "checkin"
    link = parse_payload(payload)
    assert link is not None
    assert (link.kind, link.arg) == ("checkin", "12-K7M2QX")


@given(st.integers(1, 10**18 - 1), st.integers(4, 12), st.randoms(use_true_random=False))
def test_payloads_are_valid_deep_links(event_id: int, length: int, rng: random.Random) -> None:
    code = new_code(length, rng=rng)
    payload = checkin_payload(event_id, code)
    assert PAYLOAD_RE.match(payload)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", payload)
    assert parse_checkin_payload(payload) == (event_id, code)
    assert parse_payload(payload) is not None


@pytest.mark.parametrize(
    ("event_id", "code"), [(0, "K7M2QX"), (-1, "K7M2QX"), (10**18, "K7M2QX"), (1, "K0M2QX")]
)
def test_checkin_payload_refuses_bad_input(event_id: int, code: str) -> None:
    with pytest.raises(ValueError):
        checkin_payload(event_id, code)


def test_checkin_payload_refuses_bool() -> None:
    with pytest.raises(ValueError):
        checkin_payload(True, "K7M2QX")


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "checkin_12",
        "checkin_-K7M2QX",
        "checkin_012-K7M2QX",
        "checkin_0-K7M2QX",
        "checkin_12-K7M",
        "checkin_12-K7M2Q0",
        "checkin_12-K7M2QX-",
        "checkin_12_K7M2QX",
        "event_12",
        "checkin_1234567890123456789-K7M2QX",
        " checkin_12-K7M2QX",
    ],
)
def test_bad_checkin_payloads(payload: str) -> None:
    assert parse_checkin_payload(payload) is None


def test_codes_match() -> None:
    assert codes_match("K7M2QX", " k7m-2qx ")
    assert codes_match("K7M2QX", "К7М2QХ")
    assert not codes_match("K7M2QX", "K7M2QY")
    assert not codes_match("K7M2QX", "K7M2Q")
    assert not codes_match("K7M2QX", "")
    assert not codes_match("K7M2QX", "K7M2Q0")
    assert not codes_match("", "")  # an unusable expected code matches nothing


# --- QR codes ---------------------------------------------------------------------------


def png_modules(png: bytes, scale: int, border: int) -> list[list[bool]]:
    """The dark/light module grid of a 1-bit greyscale PNG (what segno writes)."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    pos, idat, header = 8, b"", b""
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (width, depth, color, interlace) == (height, 1, 0, 0)
    stride = (width + 7) // 8
    raw = zlib.decompress(idat)
    rows: list[bytearray] = []
    prev = bytearray(stride)
    for y in range(height):
        kind_byte, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):
            left = line[i - 1] if i else 0
            up, up_left = prev[i], prev[i - 1] if i else 0
            if kind_byte == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind_byte == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind_byte == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind_byte == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                line[i] = (line[i] + pred) & 0xFF
        rows.append(line)
        prev = line

    def dark(x: int, y: int) -> bool:
        return not (rows[y][x // 8] >> (7 - x % 8)) & 1

    size = width // scale
    grid = [
        [dark(x * scale + scale // 2, y * scale + scale // 2) for x in range(size)]
        for y in range(size)
    ]
    # every pixel of a module has the module's colour
    assert all(
        dark(x, y) == grid[y // scale][x // scale]
        for y in range(0, height, 3)
        for x in range(0, width, 3)
    )
    assert not any(
        grid[i][j]
        for i in range(size)
        for j in range(size)
        if min(i, j, size - 1 - i, size - 1 - j) < border
    )
    return [row[border : size - border] for row in grid[border : size - border]]


def format_bits(m: list[list[bool]]) -> tuple[int, int]:
    """Both copies of the 15-bit format information (read as ZXing does: m[row][col])."""
    n = len(m)
    first = (
        [(8, c) for c in range(6)] + [(8, 7), (8, 8), (7, 8)] + [(r, 8) for r in range(5, -1, -1)]
    )
    second = [(r, 8) for r in range(n - 1, n - 8, -1)] + [(8, c) for c in range(n - 8, n)]

    def read(cells: list[tuple[int, int]]) -> int:
        value = 0
        for r, c in cells:
            value = value << 1 | m[r][c]
        return value

    return read(first), read(second)


@pytest.mark.parametrize("scale", [1, 4, 10])
def test_qr_png(scale: int) -> None:
    link = "https://t.me/metodbot?start=" + checkin_payload(12, "K7M2QX")
    png = qr_png(link, scale=scale)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    assert width == height
    expected = segno.make_qr(link, error="m", boost_error=False)
    modules = 17 + 4 * int(expected.version)
    assert width == (modules + 2 * 4) * scale
    grid = png_modules(png, scale, border=4)
    assert grid == [[bool(v) for v in row] for row in expected.matrix]
    # the symbol itself says error correction level M (format bits 00 after the mask)
    first, second = format_bits(grid)
    assert first == second
    assert (first ^ 0b101010000010010) >> 13 == 0b00


def test_qr_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        qr_png("")
    with pytest.raises(ValueError):
        qr_png("x", scale=0)
