"""The plain rules of reminders: Russia's zones, quiet hours, the send-time decision and the
plan's lead times (`domain.reminders`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.notices import NoticeKind
from domain.reminders import (
    CATEGORY,
    QUIET_CHOICES,
    ZONES,
    Category,
    Policy,
    Preferences,
    QuietHours,
    Verdict,
    decide,
    parse_quiet,
    zone,
)

MSK = ZoneInfo("Europe/Moscow")
YEKT = ZoneInfo("Asia/Yekaterinburg")
NIGHT = QuietHours(time(21), time(8))


def local(tz: ZoneInfo, hh: int, mm: int = 0, day: date = date(2026, 12, 3)) -> datetime:
    return datetime.combine(day, time(hh, mm), tz).astimezone(UTC)


def test_the_eleven_zones_are_russias_and_their_offsets_are_true() -> None:
    assert len(ZONES) == 11
    assert [z.utc_offset for z in ZONES] == list(range(2, 13))
    for z in ZONES:
        offset = datetime(2026, 12, 1, tzinfo=ZoneInfo(z.key)).utcoffset()
        assert offset == timedelta(hours=z.utc_offset), z.key
    moscow = zone("Europe/Moscow")
    assert moscow is not None
    assert moscow.label("ru") == "Москва (UTC+3)" and moscow.label("en") == "Moscow (UTC+3)"
    assert zone("Europe/Berlin") is None


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("21:00-08:00", NIGHT),
        ("22:00–07:30", QuietHours(time(22), time(7, 30))),  # an en dash, as shown
        ("08:00-12:00", QuietHours(time(8), time(12))),
        ("", None),
        ("off", None),
        ("10:00-10:00", None),
    ],
)
def test_quiet_hours_are_read_from_their_code(code: str, expected: QuietHours | None) -> None:
    assert parse_quiet(code) == expected


@pytest.mark.parametrize("code", ["21-8", "25:00-08:00", "nonsense", "21:00"])
def test_a_malformed_code_is_refused(code: str) -> None:
    with pytest.raises(ValueError):
        parse_quiet(code)


def test_every_offered_choice_is_valid() -> None:
    for code in QUIET_CHOICES:
        parse_quiet(code)


def test_quiet_hours_across_midnight_end_on_the_right_morning() -> None:
    assert NIGHT.covers(time(21)) and NIGHT.covers(time(0)) and NIGHT.covers(time(7, 59))
    assert not NIGHT.covers(time(8)) and not NIGHT.covers(time(20, 59))
    # the evening: the end is tomorrow morning; after midnight: this morning
    assert NIGHT.ends_after(local(MSK, 22), MSK) == local(MSK, 8, day=date(2026, 12, 4))
    assert NIGHT.ends_after(local(MSK, 3), MSK) == local(MSK, 8)
    # not quiet: now itself
    assert NIGHT.ends_after(local(MSK, 12), MSK) == local(MSK, 12)
    # the same moment is quiet in Yekaterinburg (midnight) and not in Moscow (22:00 is)
    moment = local(MSK, 20)
    assert NIGHT.ends_after(moment, MSK) == moment
    assert NIGHT.ends_after(moment, YEKT) == local(YEKT, 8, day=date(2026, 12, 4))
    day = QuietHours(time(13), time(15))
    assert day.covers(time(14)) and not day.covers(time(15))
    assert day.ends_after(local(MSK, 14), MSK) == local(MSK, 15)


def prefs(
    *, muted: frozenset[Category] = frozenset(), quiet: QuietHours | None = NIGHT
) -> Preferences:
    return Preferences(MSK, quiet, muted)


def test_the_send_time_decision() -> None:
    noon, night = local(MSK, 12), local(MSK, 23)
    reminder = NoticeKind.EVENT_REMINDER
    assert decide(reminder, prefs(), noon).verdict is Verdict.SEND
    deferred = decide(reminder, prefs(), night)
    assert deferred.verdict is Verdict.DEFER
    assert deferred.until == local(MSK, 8, day=date(2026, 12, 4))
    # an event starting within two hours breaks the quiet; one in three hours does not
    soon = decide(reminder, prefs(), night, event_starts_at=night + timedelta(hours=2))
    assert soon.verdict is Verdict.SEND
    later = decide(reminder, prefs(), night, event_starts_at=night + timedelta(hours=3))
    assert later.verdict is Verdict.DEFER
    # muted wins over everything; kinds without a category cannot be muted
    muted = prefs(muted=frozenset({Category.EVENTS}))
    assert decide(reminder, muted, noon).verdict is Verdict.MUTED
    assert decide(NoticeKind.EVENT_CANCELLED, muted, noon).verdict is Verdict.SEND
    assert decide(NoticeKind.EVENT_CANCELLED, muted, night).verdict is Verdict.DEFER
    assert decide(reminder, prefs(quiet=None), night).verdict is Verdict.SEND


def test_reminder_kinds_have_categories_and_transactional_ones_do_not() -> None:
    assert CATEGORY[NoticeKind.EVENT_REMINDER] is Category.EVENTS
    assert CATEGORY[NoticeKind.ROUTE_NUDGE] is Category.ROUTE
    assert CATEGORY[NoticeKind.ASSESSMENT_UNFINISHED] is Category.ASSESSMENT
    assert CATEGORY[NoticeKind.STAFF_AGENDA] is Category.AGENDA
    for kind in (NoticeKind.SEAT_OFFERED, NoticeKind.EVENT_CANCELLED, NoticeKind.ROUTE_COMMENT):
        assert kind not in CATEGORY


def test_preferences_fill_in_the_defaults_and_survive_bad_values() -> None:
    policy = Policy(default_quiet="21:00-08:00", default_tz=MSK)
    chosen = policy.preferences("Asia/Yekaterinburg", "", ["route", "unknown"])
    assert chosen.tz == YEKT and chosen.quiet is None
    assert chosen.muted == frozenset({Category.ROUTE})
    default = policy.preferences(None, None, None)
    assert default.tz == MSK and default.quiet == NIGHT and default.muted == frozenset()
    broken = policy.preferences("Mars/Olympus", "garbage", [])
    assert broken.tz == MSK and broken.quiet == NIGHT


def test_the_lead_times_still_ahead_are_planned() -> None:
    policy = Policy.build(
        event_lead_minutes=[60, 24 * 60, 60],
        step_window_days=3,
        nudge_every_days=7,
        stall_days=30,
        unfinished_days=[7, 2],
        day_time=time(10),
        agenda_time=time(8),
        summary_time=time(10),
        default_quiet="21:00-08:00",
        urgent_minutes=120,
        default_tz=MSK,
    )
    assert policy.event_leads == (timedelta(hours=24), timedelta(hours=1))
    assert policy.unfinished_days == (2, 7)
    starts = local(MSK, 15)
    assert policy.event_reminders(starts, starts - timedelta(days=3)) == [
        timedelta(hours=24),
        timedelta(hours=1),
    ]
    # signed up 5 hours before: only the hour-before reminder is still ahead
    assert policy.event_reminders(starts, starts - timedelta(hours=5)) == [timedelta(hours=1)]
    assert policy.event_reminders(starts, starts - timedelta(minutes=30)) == []
