"""Longer user-facing texts, kept together so translators see them side by side."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

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
