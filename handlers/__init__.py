"""Telegram I/O only: parse the update, call the domain and the repository, render a reply."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    """Feature routers in priority order: commands and menu before wizard text handlers."""
    from handlers import (
        admin,
        assessment,
        broadcasts,
        coordinator,
        errors,
        event_admin,
        event_import,
        events,
        fallback,
        membership,
        menu,
        onboarding,
        profile,
        route,
        settings,
        stats,
    )

    modules = (
        errors,
        membership,
        onboarding,
        menu,
        settings,
        admin,
        coordinator,
        broadcasts,
        stats,
        event_admin,
        event_import,
        assessment,
        route,
        events,
        profile,
        fallback,
    )
    return [module.make_router() for module in modules]
