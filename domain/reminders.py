"""Reminders that respect people: each user's time zone, quiet hours and categories.

Every message the bot sends on its own is an outbox row (`domain.notices`). Whether a row is
sent is decided at send time by `decide`: a muted category drops it, quiet hours defer it to
their end (where rows of one kind collapse into one message), and only a message about an
event starting soon breaks the silence. The times reminders are planned for (`Policy`) are
settings, so the tests run them with an injected clock.

Plain Python: no database, no aiogram.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.notices import NoticeKind


class Category(StrEnum):
    """What a user can switch off in /settings (and with the 🔕 button under a reminder)."""

    #: reminders before events, the feedback request after them
    EVENTS = "events"
    #: nudges about route steps and a route left idle
    ROUTE = "route"
    #: an unfinished self-assessment, a retake that became available
    ASSESSMENT = "assessment"
    #: broadcasts from methodists
    NEWS = "news"
    #: staff only: the morning agenda and the day-after summary of their events, the Monday
    #: statistics digest
    AGENDA = "agenda"


#: the categories a teacher sees in /settings; staff also see AGENDA
TEACHER_CATEGORIES = (Category.EVENTS, Category.ROUTE, Category.ASSESSMENT, Category.NEWS)
STAFF_CATEGORIES = (*TEACHER_CATEGORIES, Category.AGENDA)

#: the reminder kinds and their category. Kinds not listed are not reminders: they answer
#: something the user did or tell them of a change made to them (an offered seat they queued
#: for, a cancelled event, a methodist's comment) and cannot be muted.
CATEGORY: dict[NoticeKind, Category] = {
    NoticeKind.EVENT_REMINDER: Category.EVENTS,
    NoticeKind.FEEDBACK_REQUEST: Category.EVENTS,
    NoticeKind.ROUTE_NUDGE: Category.ROUTE,
    NoticeKind.ROUTE_STALLED: Category.ROUTE,
    NoticeKind.ASSESSMENT_UNFINISHED: Category.ASSESSMENT,
    NoticeKind.RETAKE_AVAILABLE: Category.ASSESSMENT,
    NoticeKind.STAFF_AGENDA: Category.AGENDA,
    NoticeKind.STAFF_SUMMARY: Category.AGENDA,
    NoticeKind.STATS_DIGEST: Category.AGENDA,
    NoticeKind.BROADCAST: Category.NEWS,
}

#: kinds whose rows deferred to the same moment are sent as one message (up to COLLAPSE_MAX)
COLLAPSIBLE = frozenset(
    {
        NoticeKind.EVENT_REMINDER,
        NoticeKind.FEEDBACK_REQUEST,
        NoticeKind.EVENT_CHANGED,
        NoticeKind.EVENT_CANCELLED,
        NoticeKind.OFFER_EXPIRED,
        NoticeKind.ROUTE_STEP_ADDED,
    }
)
COLLAPSE_MAX = 5


#: kinds quiet hours never hold back: the live view of what the user is doing right now
ALWAYS_NOW = frozenset({NoticeKind.BROADCAST_PROGRESS})


def category_of(kind: NoticeKind) -> Category | None:
    return CATEGORY.get(kind)


# ---------------------------------------------------------------------------- time zones


@dataclass(frozen=True, slots=True)
class Zone:
    key: str
    city_ru: str
    city_en: str
    utc_offset: int

    def label(self, locale: str) -> str:
        city = self.city_en if locale == "en" else self.city_ru
        return f"{city} (UTC+{self.utc_offset})"


#: Russia's eleven time zones, west to east, named by their best-known city
ZONES = (
    Zone("Europe/Kaliningrad", "Калининград", "Kaliningrad", 2),
    Zone("Europe/Moscow", "Москва", "Moscow", 3),
    Zone("Europe/Samara", "Самара", "Samara", 4),
    Zone("Asia/Yekaterinburg", "Екатеринбург", "Yekaterinburg", 5),
    Zone("Asia/Omsk", "Омск", "Omsk", 6),
    Zone("Asia/Krasnoyarsk", "Красноярск", "Krasnoyarsk", 7),
    Zone("Asia/Irkutsk", "Иркутск", "Irkutsk", 8),
    Zone("Asia/Yakutsk", "Якутск", "Yakutsk", 9),
    Zone("Asia/Vladivostok", "Владивосток", "Vladivostok", 10),
    Zone("Asia/Magadan", "Магадан", "Magadan", 11),
    Zone("Asia/Kamchatka", "Петропавловск-Камчатский", "Petropavlovsk-Kamchatsky", 12),
)
ZONE_KEYS = frozenset(zone.key for zone in ZONES)


def zone(key: str | None) -> Zone | None:
    return next((z for z in ZONES if z.key == key), None)


def tz_of(key: str | None, default: tzinfo) -> tzinfo:
    """The user's zone (`users.timezone`), or the service's for an unset or unknown one."""
    if not key:
        return default
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        return default


# ---------------------------------------------------------------------------- quiet hours


@dataclass(frozen=True, slots=True)
class QuietHours:
    """From `start` to `end` local time (across midnight when `end` <= `start`)."""

    start: time
    end: time

    def text(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"

    def code(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def covers(self, moment: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def ends_after(self, now: datetime, tz: tzinfo) -> datetime:
        """The end of the quiet period `now` is in (UTC); `now` itself if it is in none."""
        local = now.astimezone(tz)
        if not self.covers(local.time()):
            return now
        day = local.date()
        if self.start > self.end and local.time() >= self.start:
            day += timedelta(days=1)
        return at_local(day, self.end, tz)


def parse_quiet(code: str | None) -> QuietHours | None:
    """ "21:00-08:00" → QuietHours; "" or "off" → None (no quiet hours). Raises ValueError."""
    if code is None or code.strip().lower() in ("", "off"):
        return None
    start_text, _, end_text = code.replace("–", "-").partition("-")
    start, end = time.fromisoformat(start_text.strip()), time.fromisoformat(end_text.strip())
    if start == end:
        return None
    return QuietHours(start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0))


#: what /settings offers ("" = no quiet hours)
QUIET_CHOICES = ("21:00-08:00", "22:00-07:00", "22:00-08:00", "23:00-08:00", "20:00-09:00", "")


def at_local(day: date, moment: time, tz: tzinfo) -> datetime:
    """`day` at `moment` local time in `tz`, as an aware UTC datetime."""
    return datetime.combine(day, moment, tzinfo=tz).astimezone(UTC)


# ---------------------------------------------------------------------------- the user's side


@dataclass(frozen=True, slots=True)
class Preferences:
    """What a recipient chose (`users.timezone`, `users.quiet_hours`, `users.muted`), with the
    service defaults filled in."""

    tz: tzinfo
    quiet: QuietHours | None
    muted: frozenset[Category] = frozenset()

    @classmethod
    def of(
        cls,
        timezone: str | None,
        quiet_hours: str | None,
        muted: Iterable[str] | None,
        *,
        default_tz: tzinfo,
        default_quiet: str,
    ) -> Preferences:
        try:
            quiet = parse_quiet(default_quiet if quiet_hours is None else quiet_hours)
        except ValueError:
            quiet = parse_quiet(default_quiet)
        return cls(
            tz=tz_of(timezone, default_tz),
            quiet=quiet,
            muted=frozenset(Category(c) for c in muted or () if c in set(Category)),
        )


# ---------------------------------------------------------------------------- the decision


class Verdict(StrEnum):
    SEND = "send"
    #: the user switched the category off: the row is cancelled
    MUTED = "muted"
    #: quiet hours: the row waits until `Decision.until`
    DEFER = "defer"


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    until: datetime | None = None


def decide(
    kind: NoticeKind,
    prefs: Preferences,
    now: datetime,
    *,
    event_starts_at: datetime | None = None,
    urgent_within: timedelta = timedelta(hours=2),
) -> Decision:
    """Send, drop or defer a row at send time. Quiet hours hold everything back except a
    message about an event that starts within `urgent_within` (its 1-hour reminder, a late
    change): waiting for the morning would make it useless."""
    category = category_of(kind)
    if category is not None and category in prefs.muted:
        return Decision(Verdict.MUTED)
    if prefs.quiet is None or kind in ALWAYS_NOW:
        return Decision(Verdict.SEND)
    until = prefs.quiet.ends_after(now, prefs.tz)
    if until <= now:
        return Decision(Verdict.SEND)
    if event_starts_at is not None and event_starts_at - now <= urgent_within:
        return Decision(Verdict.SEND)
    return Decision(Verdict.DEFER, until)


# ---------------------------------------------------------------------------- the plan


def _minutes(values: Iterable[int]) -> tuple[timedelta, ...]:
    return tuple(sorted((timedelta(minutes=v) for v in set(values)), reverse=True))


@dataclass(frozen=True, slots=True)
class Policy:
    """When reminders are planned (`REMINDER_*` settings)."""

    #: event reminders this long before the start (largest first)
    event_leads: tuple[timedelta, ...] = field(default_factory=lambda: _minutes((24 * 60, 60)))
    #: a route step is "near" this many days before its target date
    step_window_days: int = 3
    #: at most one route nudge per this many days
    nudge_every_days: int = 7
    #: a route with no progress for this many days gets one "shall we continue?"
    stall_days: int = 30
    #: an unfinished self-assessment is reminded of this many days after it was started
    unfinished_days: tuple[int, ...] = (2, 7)
    #: local time of day for nudges and assessment reminders
    day_time: time = time(10, 0)
    #: local time of the coordinator's agenda on the day of their events
    agenda_time: time = time(8, 0)
    #: local time of the day-after summary
    summary_time: time = time(10, 0)
    #: local time of the staff's statistics digest on Mondays
    digest_time: time = time(9, 0)
    #: quiet hours for users who have not chosen ("" = none)
    default_quiet: str = "21:00-08:00"
    #: an event starting this soon breaks the quiet hours
    urgent_within: timedelta = timedelta(hours=2)
    #: the zone of users who have not chosen (`TIMEZONE`)
    default_tz: tzinfo = field(default_factory=lambda: ZoneInfo("Europe/Moscow"))

    def preferences(
        self, timezone: str | None, quiet_hours: str | None, muted: Iterable[str] | None
    ) -> Preferences:
        return Preferences.of(
            timezone,
            quiet_hours,
            muted,
            default_tz=self.default_tz,
            default_quiet=self.default_quiet,
        )

    def tz(self, timezone: str | None) -> tzinfo:
        return tz_of(timezone, self.default_tz)

    @classmethod
    def build(
        cls,
        *,
        event_lead_minutes: Iterable[int],
        step_window_days: int,
        nudge_every_days: int,
        stall_days: int,
        unfinished_days: Iterable[int],
        day_time: time,
        agenda_time: time,
        summary_time: time,
        default_quiet: str,
        urgent_minutes: int,
        default_tz: tzinfo,
    ) -> Policy:
        return cls(
            event_leads=_minutes(event_lead_minutes),
            step_window_days=step_window_days,
            nudge_every_days=nudge_every_days,
            stall_days=stall_days,
            unfinished_days=tuple(sorted(set(unfinished_days))),
            day_time=day_time,
            agenda_time=agenda_time,
            summary_time=summary_time,
            default_quiet=default_quiet,
            urgent_within=timedelta(minutes=urgent_minutes),
            default_tz=default_tz,
        )

    def event_reminders(self, starts_at: datetime, now: datetime) -> list[timedelta]:
        """The lead times still ahead for an event starting at `starts_at`."""
        return [lead for lead in self.event_leads if starts_at - lead > now]

    def near(self, target: date, today: date) -> bool:
        """A step is due a nudge: its target date is within the window or has passed."""
        return target - timedelta(days=self.step_window_days) <= today

    def stall_at(self, last_progress: datetime) -> datetime:
        return last_progress + timedelta(days=self.stall_days)

    def unfinished_at(self, started_at: datetime) -> list[tuple[int, datetime]]:
        return [(days, started_at + timedelta(days=days)) for days in self.unfinished_days]


__all__ = [
    "CATEGORY",
    "COLLAPSE_MAX",
    "COLLAPSIBLE",
    "QUIET_CHOICES",
    "STAFF_CATEGORIES",
    "TEACHER_CATEGORIES",
    "ZONES",
    "ZONE_KEYS",
    "Category",
    "Decision",
    "Policy",
    "Preferences",
    "QuietHours",
    "Verdict",
    "Zone",
    "at_local",
    "category_of",
    "decide",
    "parse_quiet",
    "tz_of",
    "zone",
]
