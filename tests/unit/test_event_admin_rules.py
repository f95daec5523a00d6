"""Pure parsing rules of the coordinator's event and site wizards (handlers/event_admin.py)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest

from core.i18n import LOCALES_DIR, CatalogI18n
from db.models import Registration
from domain.event_forms import (
    BadModuleLine,
    parse_end,
    parse_local,
    parse_modules,
    parse_whole,
    site_code,
    split_place,
)
from handlers.event_admin import participants_csv

MSK = ZoneInfo("Europe/Moscow")


def test_local_date_is_stored_in_utc() -> None:
    assert parse_local("15.10.2026 10:00", MSK) == datetime(2026, 10, 15, 7, 0, tzinfo=UTC)
    assert parse_local(" 15.10.2026   10:00 ", MSK) == datetime(2026, 10, 15, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text", ["", "15.10.2026", "32.10.2026 10:00", "15.13.2026 10:00", "2026-10-15 10:00", "10:00"]
)
def test_malformed_dates_are_refused(text: str) -> None:
    assert parse_local(text, MSK) is None


def test_end_as_time_is_on_the_local_day_of_the_start() -> None:
    # 01:30 Moscow on the 16th is 22:30 UTC on the 15th: the local day decides
    start = parse_local("16.10.2026 01:30", MSK)
    assert start == datetime(2026, 10, 15, 22, 30, tzinfo=UTC)
    assert parse_end("03:00", start, MSK) == datetime(2026, 10, 16, 0, 0, tzinfo=UTC)
    assert parse_end("17.10.2026 09:00", start, MSK) == datetime(2026, 10, 17, 6, 0, tzinfo=UTC)
    assert parse_end("25:00", start, MSK) is None
    assert parse_end("soon", start, MSK) is None


def test_place_or_link() -> None:
    assert split_place("  Lenina 5, room 12 ") == ("Lenina 5, room 12", "")
    assert split_place("https://meet.example.org/x") == ("", "https://meet.example.org/x")
    assert split_place("HTTP://example.org") == ("", "HTTP://example.org")
    assert split_place("httpbin street 3") == ("httpbin street 3", "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        (" 30 ", 30),
        ("10000", 10000),
        ("0", None),
        ("10001", None),
        ("-3", None),
        ("2.5", None),
        ("", None),
        ("ten", None),
        ("٣", None),
    ],
)
def test_whole_numbers_in_range(text: str, expected: int | None) -> None:
    assert parse_whole(text, 1, 10000) == expected


def test_module_lines_with_any_separator() -> None:
    text = "Lesson study — 6\n\nSelf-assessment - 8\n  Formative   assessment | 12  \nPart 1-2 – 4"
    assert parse_modules(text) == [
        ("Lesson study", 6),
        ("Self-assessment", 8),
        ("Formative assessment", 12),
        ("Part 1-2", 4),
    ]


@pytest.mark.parametrize(
    ("text", "line"),
    [("Lesson study — 6\nNo hours here", 2), ("— 6", 1), ("Big — 201", 1), ("Zero | 0", 1)],
)
def test_bad_module_line_is_named(text: str, line: int) -> None:
    with pytest.raises(BadModuleLine) as caught:
        parse_modules(text)
    assert caught.value.number == line


def test_site_code_fits_the_column() -> None:
    assert site_code("volgodonsk", 3) == "site-volgodonsk-3"
    assert len(site_code("x" * 32, 9999)) <= 32


def test_participants_csv_has_bom_semicolons_and_local_times() -> None:
    user = SimpleNamespace(full_name='Иванова "Анна"; Петровна', school_id=5)
    reg: Any = SimpleNamespace(
        user=user,
        status="attended",
        queue_no=1,
        attended_at=datetime(2026, 12, 12, 7, 5, tzinfo=UTC),
        feedback_rating=5,
        feedback_comment="Полезно",
    )
    i18n = CatalogI18n(path=LOCALES_DIR, default_locale="en")
    with i18n.context(), i18n.use_locale("en"):
        data = participants_csv([cast(Registration, reg)], {5: "СОШ № 1"}, MSK)
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert table[0] == [
        "Full name",
        "School",
        "Status",
        "Queue number",
        "Attended at",
        "Feedback rating",
        "Feedback comment",
    ]
    assert table[1] == [
        'Иванова "Анна"; Петровна',
        "СОШ № 1",
        "attended",
        "",  # the waitlist number: only for waitlisted registrations
        "12.12.2026 10:05",
        "5",
        "Полезно",
    ]


def test_confirmed_without_attendance_is_a_no_show_after_the_event() -> None:
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from core.i18n import LOCALES_DIR, CatalogI18n
    from handlers.event_admin import participants_csv

    i18n = CatalogI18n(path=LOCALES_DIR, default_locale="en")
    user = SimpleNamespace(full_name="Иванова Анна", school_id=None)
    regs = [
        SimpleNamespace(
            user=user,
            status="confirmed",
            queue_no=1,
            attended_at=None,
            feedback_rating=None,
            feedback_comment=None,
        ),
        SimpleNamespace(
            user=user,
            status="attended",
            queue_no=2,
            attended_at=datetime(2026, 1, 1, tzinfo=UTC),
            feedback_rating=5,
            feedback_comment="ok",
        ),
    ]
    with i18n.context(), i18n.use_locale("en"):
        during = participants_csv(regs, {}, UTC, ended=False).decode("utf-8-sig")  # type: ignore[arg-type]
        after = participants_csv(regs, {}, UTC, ended=True).decode("utf-8-sig")  # type: ignore[arg-type]
    assert "no-show" not in during and "confirmed" in during
    assert "no-show" in after and "attended" in after
