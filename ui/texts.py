"""Longer user-facing texts, kept together so translators see them side by side."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from domain.events import EventKind, EventStatus, RegStatus

CONSENT_VERSION = "1.0"


def welcome() -> str:
    return _(
        "👋 <b>Hello! I am the methodological assistant for teachers.</b>\n\n"
        "I help you see your professional strengths and gaps, plan your own learning "
        "route and find internship sites and master-classes of the municipal methodical "
        "service — all in this chat."
    )


def consent_request() -> str:
    return _(
        "🔒 <b>Consent to personal-data processing</b>\n\n"
        "To keep your profile I need your consent under Federal Law No. 152-FZ. I will store "
        "your full name, municipality, school, position, subjects, teaching experience and "
        "age band. They are used only for methodological support and are seen only by the "
        "methodists of your municipality and the administrators of the service.\n\n"
        "You can download your data (/mydata) or erase it (/deleteme) at any time. "
        "The full policy: /privacy."
    )


def consent_declined() -> str:
    return _(
        "Understood, I have not stored any personal data.\n\n"
        "Without consent I cannot keep a profile, but you can still read /help and the "
        "policy (/privacy). If you change your mind, send /start or press the button below."
    )


def privacy_policy() -> str:
    return _(
        "📄 <b>Personal data policy</b> (version {version})\n\n"
        "<b>Operator.</b> The municipal methodical service that runs this bot.\n\n"
        "<b>What is processed.</b> Your Telegram id and interface language; after your "
        "consent also your full name, municipality, school, position, subjects, teaching "
        "experience and age band, and what you do in the bot: your self-assessment answers "
        "and results, your route with the evidence (texts, links, files) and reflections you "
        "add, your sign-ups, attendance and feedback on events.\n\n"
        "<b>Why.</b> Methodological support: diagnosing professional needs, building an "
        "individual learning route, organising internship sessions and master-classes, and "
        "anonymous statistics for the methodical service.\n\n"
        "<b>Who sees it.</b> You; the methodists (coordinators) of your municipality; the "
        "administrators of the service. Nothing is passed to third parties.\n\n"
        "<b>How long.</b> Until you withdraw consent. If you never agree, even your Telegram "
        "id is deleted after 30 days of silence.\n\n"
        "<b>Your rights.</b> /mydata sends you everything stored about you; /profile lets "
        "you correct it; /deleteme erases your personal data (only anonymous counts, such "
        "as municipality, position and age band, remain for statistics). Consent is "
        "voluntary and can be withdrawn at any time."
    ).format(version=CONSENT_VERSION)


# ------------------------------------------------------------------ labels of the domain's codes


def kind_label(kind: str) -> str:
    labels: dict[str, str] = {
        EventKind.INTERNSHIP: _("Internship session"),
        EventKind.MASTERCLASS: _("Master-class"),
        EventKind.SEMINAR: _("Seminar"),
        EventKind.WEBINAR: _("Webinar"),
        EventKind.OPEN_LESSON: _("Open lesson"),
        EventKind.WORKSHOP: _("Pedagogical workshop"),
    }
    return labels.get(kind, kind)


def event_status_label(status: str) -> str:
    labels: dict[str, str] = {
        EventStatus.SCHEDULED: _("scheduled"),
        EventStatus.CANCELLED: _("cancelled"),
        EventStatus.COMPLETED: _("completed"),
    }
    return labels.get(status, status)


def reg_status_label(status: str, *, ended: bool = False) -> str:
    """`ended`: after the event a confirmed registration without attendance is a no-show."""
    if ended and status == RegStatus.CONFIRMED.value:
        return _("no-show")
    labels: dict[str, str] = {
        RegStatus.CONFIRMED: _("confirmed"),
        RegStatus.OFFERED: _("seat offered"),
        RegStatus.WAITLISTED: _("waitlist"),
        RegStatus.ATTENDED: _("attended"),
        RegStatus.CANCELLED: _("cancelled"),
    }
    return labels.get(status, status)


def step_kind_label(kind: str) -> str:
    return {
        "learn": _("Learning"),
        "practice": _("Internship site"),
        "masterclass": _("Master-class"),
        "mentoring": _("Mentoring / consultation"),
        "transfer": _("Into practice"),
        "reflection": _("Reflection"),
        "custom": _("Methodist's task"),
    }.get(kind, kind)


def step_status_label(status: str) -> str:
    return {
        "planned": _("planned"),
        "in_progress": _("in progress"),
        "done": _("done"),
        "skipped": _("skipped"),
    }.get(status, status)
